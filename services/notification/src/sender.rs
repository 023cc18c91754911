//! The sender: claims due deliveries, sends each through the [`EmailSender`], and records the
//! outcome with its `email.sent.v1` / `email.failed.v1` event in one transaction.
//!
//! Before each send the [`policy`] is asked again (the address may have been suppressed or
//! unsubscribed since the delivery was made), a non-transactional email takes a slot of its
//! recipient's throttle, and the service-wide rate limit (`sender.max_per_second`) is waited for.
//! A 5xx reply to RCPT TO, DATA or the message puts the address on the suppression list.
//!
//! The window that remains: SMTP has no way to make "the server accepted it" and "we recorded it"
//! one step. If the process dies after the server's "250" and before the row is marked sent (a
//! commit, a millisecond or two), the claim lapses and the email is sent again — with the same
//! Message-ID, fixed when the row was created, by which mailbox providers recognise and drop the
//! copy. Recording the send *before* the final `.` instead turns the same window into a lost email
//! (tried and measured: a kill mid-load then lost one), which is worse for a confirmation.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use futures::StreamExt;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use lettre::message::Mailbox;
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use valued_platform::outbox::Outbox;
use valued_platform::shutdown::Shutdown;
use valued_proto::events::v1::{EmailFailed, EmailSent};

use crate::db::delivery::{self, Model};
use crate::email::{Dkim, EmailSender, RenderedEmail, SendError, build_message};
use crate::policy::throttle::{self, Slot};
use crate::policy::{self, Kind, summary, suppression};
use crate::settings::{SenderSettings, Settings, ThrottleSettings};

pub struct Sender {
    pub db: DatabaseConnection,
    pub email: Arc<dyn EmailSender>,
    pub from: Mailbox,
    pub settings: SenderSettings,
    pub wake: Arc<Notify>,
    pub outbox: Outbox,
    /// The public site, where `/unsubscribe/{token}` is served.
    pub public_url: String,
    pub throttle: ThrottleSettings,
    pub dkim: Option<Arc<Dkim>>,
    /// `sender.max_per_second`, when set.
    pub limiter: Option<Arc<DefaultDirectRateLimiter>>,
    /// For the summary that carries emails the throttle held back.
    pub templates: Arc<crate::templates::Templates>,
}

impl Sender {
    pub fn new(
        settings: &Settings,
        db: DatabaseConnection,
        email: Arc<dyn EmailSender>,
        wake: Arc<Notify>,
        outbox: Outbox,
    ) -> anyhow::Result<Self> {
        let from = settings
            .email
            .from
            .parse()
            .with_context(|| format!("email.from {:?}", settings.email.from))?;
        let limiter = NonZeroU32::new(settings.sender.max_per_second)
            .map(|rate| Arc::new(RateLimiter::direct(Quota::per_second(rate))));
        Ok(Self {
            db,
            email,
            from,
            settings: settings.sender.clone(),
            wake,
            outbox,
            public_url: settings.email.public_url.trim_end_matches('/').to_owned(),
            throttle: settings.throttle.clone(),
            dkim: Dkim::from_settings(&settings.dkim)?.map(Arc::new),
            limiter,
            templates: Arc::new(
                crate::templates::Templates::new()?.with_privacy_notice(&settings.email.public_url),
            ),
        })
    }

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
        let mut batch = u64::try_from(self.settings.concurrency * 4).unwrap_or(64);
        if self.settings.max_per_second > 0 {
            // Every claimed email must be sent well within its lease, rate limit and all.
            let in_half_a_lease = u64::from(self.settings.max_per_second)
                .saturating_mul(u64::try_from(self.settings.lease_seconds / 2).unwrap_or(1));
            batch = batch.min(in_half_a_lease.max(1));
        }
        let lease = chrono::Duration::seconds(self.settings.lease_seconds);
        let due = delivery::claim_due(&self.db, batch, lease).await?;
        let count = due.len();
        let outcomes: Vec<anyhow::Result<()>> = futures::stream::iter(due)
            .map(|row| self.send_one(row))
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        outcomes.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
        Ok(count)
    }

    async fn send_one(&self, mut row: Model) -> anyhow::Result<()> {
        let decision = policy::decide(&self.db, &row.recipient, &row.template).await?;
        if let Some((status, note)) = decision.verdict.skipped() {
            delivery::mark_skipped(&self.db, row.id, status, note).await?;
            tracing::info!(delivery_id = %row.id, template = %row.template, "{note}");
            return Ok(());
        }
        let unsubscribe = decision
            .unsubscribe_token
            .map(|token| format!("{}/unsubscribe/{token}", self.public_url));
        if policy::kind(&row.template) == Kind::NonTransactional && row.counted_at.is_none() {
            let window = chrono::Duration::seconds(self.throttle.window_seconds.max(1));
            let per_window = self.throttle.per_recipient_per_day;
            let slot =
                throttle::take_slot(&self.db, row.id, &row.recipient, per_window, window).await?;
            if let Slot::FreeAt(at) = slot {
                let note = format!(
                    "throttled: {per_window} non-transactional emails to this address in {}s; waits until {at}",
                    window.num_seconds()
                );
                summary::defer(&self.db, &row, at, &note).await?;
                tracing::info!(delivery_id = %row.id, template = %row.template, %at, "throttled");
                return Ok(());
            }
            // What waited for this person's slot behind this email goes with it, as one summary.
            row = summary::with_folded(&self.db, &self.templates, row).await?;
        }
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        let attempts = row.attempts + 1;
        let rendered = RenderedEmail {
            subject: row.subject.clone(),
            text: row.text_body.clone(),
            html: row.html_body.clone(),
        };
        // A trust's own sender name, on our address.
        let from = match &row.sender_name {
            Some(name) => Mailbox::new(Some(name.clone()), self.from.email.clone()),
            None => self.from.clone(),
        };
        let message = build_message(
            &from,
            &row.recipient,
            row.reply_to.as_deref(),
            &row.message_id,
            unsubscribe.as_deref(),
            &rendered,
        );
        let result = match message {
            Ok(mut message) => {
                if let Some(dkim) = &self.dkim {
                    dkim.sign(&mut message);
                }
                self.email.send(message).await
            }
            Err(error) => Err(SendError::Permanent(format!(
                "cannot build the message: {error}"
            ))),
        };
        let txn = self.db.begin().await?;
        if let Err(SendError::Rejected(error)) = &result {
            suppression::suppress(
                &txn,
                &row.recipient,
                suppression::reason::SMTP_REJECTED,
                error,
            )
            .await?;
            tracing::warn!(delivery_id = %row.id, %error, "rejected: the address is now suppressed");
        }
        let retry = match &result {
            Err(SendError::Unavailable(_)) => true,
            Err(SendError::Transient(_)) => attempts < self.settings.max_attempts,
            _ => false,
        };
        match result {
            Ok(response) => {
                delivery::mark_sent(&txn, row.id, attempts, &response).await?;
                let event = EmailSent {
                    delivery_id: row.id.to_string(),
                    template: row.template.clone(),
                    cause_event_id: row.cause_event_id.to_string(),
                    smtp_message_id: row.message_id.clone(),
                };
                self.outbox.enqueue(&txn, None, &event).await?;
                tracing::info!(delivery_id = %row.id, template = %row.template, "email sent");
            }
            // An unreachable server is not this email's fault: it waits out the outage, however
            // long, and is never given up.
            Err(SendError::Transient(error) | SendError::Unavailable(error)) if retry => {
                let delay = backoff(
                    attempts,
                    self.settings.retry_base_ms,
                    self.settings.retry_max_ms,
                );
                delivery::mark_retry(&txn, row.id, attempts, &error, Utc::now() + delay).await?;
                tracing::warn!(delivery_id = %row.id, attempts, %error, "temporary failure; will retry");
            }
            Err(
                SendError::Transient(error)
                | SendError::Unavailable(error)
                | SendError::Permanent(error)
                | SendError::Rejected(error),
            ) => {
                delivery::mark_failed(&txn, row.id, attempts, &error).await?;
                let event = EmailFailed {
                    delivery_id: row.id.to_string(),
                    template: row.template.clone(),
                    cause_event_id: row.cause_event_id.to_string(),
                    error: error.clone(),
                };
                self.outbox.enqueue(&txn, None, &event).await?;
                tracing::error!(delivery_id = %row.id, attempts, %error, "email given up");
            }
        }
        self.outbox.commit(txn).await?;
        Ok(())
    }
}

/// `base` doubling per attempt after the first, capped at `max_ms`.
fn backoff(attempts: i32, base_ms: i64, max_ms: i64) -> chrono::Duration {
    let millis = base_ms
        .saturating_mul(1i64 << (attempts - 1).clamp(0, 20))
        .min(max_ms);
    chrono::Duration::milliseconds(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1, 2_000, 1_800_000).num_seconds(), 2);
        assert_eq!(backoff(2, 2_000, 1_800_000).num_seconds(), 4);
        assert_eq!(backoff(30, 2_000, 1_800_000).num_seconds(), 1_800);
        assert_eq!(backoff(30, 100, 1_000).num_milliseconds(), 1_000);
    }
}
