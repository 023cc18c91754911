//! The sender: claims due deliveries, sends each through the [`EmailSender`], and records the
//! outcome with its `email.sent.v1` / `email.failed.v1` event in one transaction.
//!
//! The window that remains: SMTP has no way to make "the server accepted it" and "we recorded it"
//! one step. If the process dies after the server's "250" and before the row is marked sent (a
//! commit, a millisecond or two), the claim lapses and the email is sent again — with the same
//! Message-ID, fixed when the row was created, by which mailbox providers recognise and drop the
//! copy. Recording the send *before* the final `.` instead turns the same window into a lost email
//! (tried and measured: a kill mid-load then lost one), which is worse for a confirmation.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use lettre::message::Mailbox;
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use valued_platform::Envelope;
use valued_platform::outbox::RelayHandle;
use valued_platform::shutdown::Shutdown;
use valued_proto::events::v1::{EmailFailed, EmailSent};

use crate::NAME;
use crate::db::delivery::{self, Model};
use crate::email::{EmailSender, RenderedEmail, SendError, build_message};
use crate::settings::SenderSettings;

pub struct Sender {
    pub db: DatabaseConnection,
    pub email: Arc<dyn EmailSender>,
    pub from: Mailbox,
    pub settings: SenderSettings,
    pub wake: Arc<Notify>,
    pub relay: RelayHandle,
}

impl Sender {
    pub fn spawn(self, shutdown: Shutdown) -> JoinHandle<()> {
        tokio::spawn(async move {
            let poll = Duration::from_millis(self.settings.poll_interval_ms);
            while !shutdown.is_triggered() {
                let wait = match self.send_due().await {
                    Ok(0) => poll,
                    Ok(_) => Duration::ZERO,
                    Err(error) => {
                        tracing::warn!(error = %format!("{error:#}"), "sender round failed");
                        poll * 4
                    }
                };
                if wait.is_zero() {
                    continue;
                }
                tokio::select! {
                    _ = shutdown.wait() => {}
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        })
    }

    /// Sends one batch of due deliveries; returns how many were attempted.
    pub async fn send_due(&self) -> anyhow::Result<usize> {
        let batch = u64::try_from(self.settings.concurrency * 4).unwrap_or(64);
        let lease = chrono::Duration::seconds(self.settings.lease_seconds);
        let due = delivery::claim_due(&self.db, batch, lease).await?;
        let count = due.len();
        let outcomes: Vec<anyhow::Result<()>> = futures::stream::iter(due)
            .map(|row| self.send_one(row))
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        if count > 0 {
            self.relay.wake();
        }
        outcomes.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
        Ok(count)
    }

    async fn send_one(&self, row: Model) -> anyhow::Result<()> {
        let attempts = row.attempts + 1;
        let rendered = RenderedEmail {
            subject: row.subject.clone(),
            text: row.text_body.clone(),
            html: row.html_body.clone(),
        };
        let message = build_message(
            &self.from,
            &row.recipient,
            row.reply_to.as_deref(),
            &row.message_id,
            &rendered,
        );
        let result = match message {
            Ok(message) => self.email.send(message).await,
            Err(error) => Err(SendError::Permanent(format!(
                "cannot build the message: {error}"
            ))),
        };
        let txn = self.db.begin().await?;
        match result {
            Ok(response) => {
                delivery::mark_sent(&txn, row.id, attempts, &response).await?;
                let event = EmailSent {
                    delivery_id: row.id.to_string(),
                    template: row.template.clone(),
                    cause_event_id: row.cause_event_id.to_string(),
                    smtp_message_id: row.message_id.clone(),
                };
                valued_platform::outbox::enqueue(&txn, &Envelope::new(NAME, None, &event)).await?;
                tracing::info!(delivery_id = %row.id, template = %row.template, "email sent");
            }
            Err(SendError::Transient(error)) if attempts < self.settings.max_attempts => {
                let delay = backoff(attempts, self.settings.retry_base_ms);
                delivery::mark_retry(&txn, row.id, attempts, &error, Utc::now() + delay).await?;
                tracing::warn!(delivery_id = %row.id, attempts, %error, "temporary failure; will retry");
            }
            Err(SendError::Transient(error) | SendError::Permanent(error)) => {
                delivery::mark_failed(&txn, row.id, attempts, &error).await?;
                let event = EmailFailed {
                    delivery_id: row.id.to_string(),
                    template: row.template.clone(),
                    cause_event_id: row.cause_event_id.to_string(),
                    error: error.clone(),
                };
                valued_platform::outbox::enqueue(&txn, &Envelope::new(NAME, None, &event)).await?;
                tracing::error!(delivery_id = %row.id, attempts, %error, "email given up");
            }
        }
        txn.commit().await?;
        Ok(())
    }
}

/// `base` doubling per attempt after the first, capped at 30 minutes.
fn backoff(attempts: i32, base_ms: i64) -> chrono::Duration {
    let millis = base_ms
        .saturating_mul(1i64 << (attempts - 1).clamp(0, 20))
        .min(1_800_000);
    chrono::Duration::milliseconds(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1, 2_000).num_seconds(), 2);
        assert_eq!(backoff(2, 2_000).num_seconds(), 4);
        assert_eq!(backoff(30, 2_000).num_seconds(), 1_800);
    }
}
