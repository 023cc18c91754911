//! The sender: claims due deliveries in batches, sends each through the [`EmailSender`], and records
//! the outcomes with their `email.sent.v1` / `email.failed.v1` events.
//!
//! A batch (`sender.claim_batch`) is claimed in one transaction and the [`policy`] asked about all
//! of it at once, with set-based queries (the address may have been suppressed or unsubscribed
//! since the delivery was made); a non-transactional email then takes a slot of its recipient's
//! throttle. With a deployment-wide rate (`sender.max_per_second`), the sender first takes tokens
//! from the bucket all replicas share ([`smtp_rate`]) and claims no more emails than it was granted;
//! granted none, it waits until the next token is due. The emails go
//! `sender.concurrency` at a time over the pooled connections, and their outcomes are recorded as
//! they arrive: whatever came in while the last write ran is written in one transaction (the sent
//! marks in one statement, their `email.sent.v1` rows in another). A connection goes on to its next
//! email while the last one's outcome is being written, but an email keeps a place among
//! `sender.unrecorded_at_most` from before its send until its outcome is written, so no more than
//! that many are ever accepted and not yet recorded. A 5xx reply to RCPT TO, DATA or
//! the message puts the address on the suppression list. A sender that is stopping gives back the
//! claimed emails it has not started, so another replica takes them at once.
//!
//! The window that remains: SMTP has no way to make "the server accepted it" and "we recorded it"
//! one step. If the process dies after the server's "250" and before the row is marked sent (the
//! write that records it, a few milliseconds), the claim lapses and the email is
//! sent again — with the same Message-ID, fixed when the row was created, by which mailbox
//! providers recognise and drop the copy. Recording the send *before* the final `.` instead turns
//! the same window into a lost email (tried and measured: a kill mid-load then lost one), which is
//! worse for a confirmation.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use futures::StreamExt;
use lettre::message::Mailbox;
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinHandle;
use tracing::Instrument;
use valued_platform::metrics::{self, EmailOutcome};
use valued_platform::outbox::Outbox;
use valued_platform::shutdown::Shutdown;
use valued_proto::events::v1::{EmailFailed, EmailSent};

use crate::db::delivery::{self, Model};
use crate::db::smtp_rate::SmtpRate;
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
    /// The deployment-wide rate to the relay (`sender.max_per_second`), when set.
    pub rate: Option<SmtpRate>,
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
            rate: SmtpRate::per_second(settings.sender.max_per_second),
            templates: Arc::new(
                crate::templates::Templates::new()?.with_privacy_notice(&settings.email.public_url),
            ),
        })
    }

    pub fn spawn(self, shutdown: Shutdown) -> JoinHandle<()> {
        tokio::spawn(async move {
            let poll = Duration::from_millis(self.settings.poll_interval_ms);
            while !shutdown.is_triggered() {
                // New deliveries wake an idle sender; one out of tokens waits for the next token.
                let (wait, wakeable) = match self.send_batch(Some(&shutdown)).await {
                    Ok(Round::Claimed(0)) => (poll, true),
                    Ok(Round::Claimed(_)) => (Duration::ZERO, true),
                    Ok(Round::OutOfTokens(next)) => (next, false),
                    Err(error) => {
                        tracing::warn!(error = %format!("{error:#}"), "sender round failed");
                        (poll * 4, true)
                    }
                };
                if wait.is_zero() {
                    continue;
                }
                tokio::select! {
                    _ = shutdown.wait() => {}
                    _ = self.wake.notified(), if wakeable => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        })
    }

    /// Sends one batch of due deliveries; returns how many were claimed.
    ///
    /// The batch is claimed in one transaction and its policy decided in a few set-based queries;
    /// the emails then go `concurrency` at a time, and their outcomes are recorded as they come in,
    /// whatever has arrived since the last write in one transaction (sent marks, their
    /// `email.sent.v1` rows). An accepted email therefore waits for its mark no longer than one
    /// such write. When the sender is stopping, the emails not yet started are released.
    pub async fn send_due(&self) -> anyhow::Result<usize> {
        match self.send_batch(None).await? {
            Round::Claimed(count) => Ok(count),
            Round::OutOfTokens(_) => Ok(0),
        }
    }

    async fn send_batch(&self, shutdown: Option<&Shutdown>) -> anyhow::Result<Round> {
        let batch = u32::try_from(self.settings.claim_batch.max(1)).unwrap_or(256);
        let lease = chrono::Duration::seconds(self.settings.lease_seconds);
        let due = match self.rate {
            Some(rate) => match delivery::claim_due_at_rate(&self.db, batch, lease, rate).await? {
                delivery::RatedClaim::Claimed(due) => due,
                delivery::RatedClaim::OutOfTokens(next_in) => {
                    return Ok(Round::OutOfTokens(next_in));
                }
            },
            None => delivery::claim_due(&self.db, u64::from(batch), lease).await?,
        };
        let count = due.len();
        if count == 0 {
            return Ok(Round::Claimed(0));
        }
        let emails: Vec<(&str, &str)> = due
            .iter()
            .map(|row| (row.recipient.as_str(), row.template.as_str()))
            .collect();
        let decisions = match policy::decide_all(&self.db, &emails).await {
            Ok(decisions) => decisions,
            Err(error) => {
                let ids: Vec<_> = due.iter().map(|row| row.id).collect();
                if let Err(release) = delivery::release(&self.db, &ids).await {
                    tracing::warn!(error = %release, "could not release the batch; its claims lapse");
                }
                return Err(error.into());
            }
        };
        let (outcomes, mut received) = mpsc::unbounded_channel();
        let concurrency = self.settings.concurrency.max(1);
        let unrecorded = Arc::new(Semaphore::new(
            self.settings.unrecorded_at_most.max(concurrency),
        ));
        let sending = async {
            let outcomes = outcomes;
            futures::stream::iter(due.into_iter().zip(decisions))
                .for_each_concurrent(concurrency, |(row, decision)| {
                    let (outcomes, unrecorded) = (&outcomes, &unrecorded);
                    async move {
                        // Held from before the send until the outcome is written: at most
                        // `unrecorded_at_most` emails are ever on the wire or accepted and not yet
                        // recorded, while the connection goes on to the next email. None once a
                        // write has failed (see below): the email is given back unsent.
                        let permit = unrecorded.clone().acquire_owned().await.ok();
                        let outcome =
                            if permit.is_none() || shutdown.is_some_and(Shutdown::is_triggered) {
                                Ok(Outcome::Released(row.id))
                            } else {
                                self.attempt(row, decision).await
                            };
                        let _ = outcomes.send((outcome, permit));
                    }
                })
                .await;
        };
        let recording = async {
            let mut first_error: Option<anyhow::Error> = None;
            let mut arrived = Vec::new();
            while received.recv_many(&mut arrived, RECORD_AT_MOST).await > 0 {
                let mut ready = Vec::with_capacity(arrived.len());
                let mut waiting = Vec::with_capacity(arrived.len());
                for (outcome, permit) in arrived.drain(..) {
                    waiting.push(permit);
                    match outcome {
                        Ok(outcome) => ready.push(outcome),
                        Err(error) => {
                            tracing::warn!(error = %format!("{error:#}"), "sending one email failed");
                            first_error.get_or_insert(error);
                        }
                    }
                }
                if let Err(error) = self.record(ready).await {
                    tracing::warn!(error = %format!("{error:#}"), "recording sent emails failed; their claims lapse");
                    first_error.get_or_insert(error);
                    // Those emails stay sent and unrecorded until their claims lapse, so their
                    // places are not given to others: the rest of the batch is given back unsent.
                    unrecorded.close();
                }
                // Written: their places go to the next emails.
                drop(waiting);
            }
            first_error
        };
        let ((), first_error) = tokio::join!(sending, recording);
        match first_error {
            Some(error) => Err(error),
            None => Ok(Round::Claimed(count)),
        }
    }

    /// Everything about one claimed email up to the SMTP server's answer: the policy's verdict,
    /// the throttle for a non-transactional one, the send.
    async fn attempt(&self, mut row: Model, decision: policy::Decision) -> anyhow::Result<Outcome> {
        if let Some((status, note)) = decision.verdict.skipped() {
            tracing::info!(delivery_id = %row.id, template = %row.template, "{note}");
            return Ok(Outcome::Skipped {
                id: row.id,
                template: row.template,
                status,
                note,
            });
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
                metrics::email(EmailOutcome::Throttled, &row.template);
                return Ok(Outcome::Recorded);
            }
            // What waited for this person's slot behind this email goes with it, as one summary.
            row = summary::with_folded(&self.db, &self.templates, row).await?;
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
        // The send continues the trace of the event that asked for the email.
        let span = tracing::info_span!(
            "send",
            otel.name = "email send",
            otel.kind = "client",
            email.template = %row.template,
            email.delivery_id = %row.id,
            email.attempt = attempts,
        );
        valued_platform::telemetry::set_parent(&span, row.traceparent.as_deref());
        let result = match message {
            Ok(mut message) => {
                if let Some(dkim) = &self.dkim {
                    dkim.sign(&mut message);
                }
                self.email.send(message).instrument(span).await
            }
            Err(error) => Err(SendError::Permanent(format!(
                "cannot build the message: {error}"
            ))),
        };
        Ok(Outcome::Answered {
            row: Box::new(row),
            attempts,
            result,
        })
    }

    /// Records `outcomes` in one transaction: the sent marks in one statement and their
    /// `email.sent.v1` rows in another; failures, retries, suppressions and skips row by row.
    async fn record(&self, outcomes: Vec<Outcome>) -> anyhow::Result<()> {
        let mut accepted = Vec::new();
        let mut sent_events = Vec::new();
        let mut failed_events = Vec::new();
        let mut released = Vec::new();
        // What each email came to, exported once the transaction recording it has committed.
        let mut counted: Vec<(EmailOutcome, String)> = Vec::new();
        let txn = self.db.begin().await?;
        for outcome in outcomes {
            let (row, attempts, result) = match outcome {
                Outcome::Recorded => continue,
                Outcome::Released(id) => {
                    released.push(id);
                    continue;
                }
                Outcome::Skipped {
                    id,
                    template,
                    status,
                    note,
                } => {
                    delivery::mark_skipped(&txn, id, status, note).await?;
                    counted.push((EmailOutcome::Skipped, template));
                    continue;
                }
                Outcome::Answered {
                    row,
                    attempts,
                    result,
                } => (row, attempts, result),
            };
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
                    tracing::info!(delivery_id = %row.id, template = %row.template, "email sent");
                    counted.push((EmailOutcome::Sent, row.template.clone()));
                    accepted.push(delivery::Accepted {
                        id: row.id,
                        attempts,
                        response,
                    });
                    sent_events.push(EmailSent {
                        delivery_id: row.id.to_string(),
                        template: row.template,
                        cause_event_id: row.cause_event_id.to_string(),
                        smtp_message_id: row.message_id,
                    });
                }
                // An unreachable server is not this email's fault: it waits out the outage,
                // however long, and is never given up.
                Err(SendError::Transient(error) | SendError::Unavailable(error)) if retry => {
                    let delay = backoff(
                        attempts,
                        self.settings.retry_base_ms,
                        self.settings.retry_max_ms,
                    );
                    delivery::mark_retry(&txn, row.id, attempts, &error, Utc::now() + delay)
                        .await?;
                    tracing::warn!(delivery_id = %row.id, attempts, %error, "temporary failure; will retry");
                    counted.push((EmailOutcome::Deferred, row.template));
                }
                Err(error) => {
                    let outcome = match error {
                        SendError::Rejected(_) => EmailOutcome::Bounced,
                        _ => EmailOutcome::Failed,
                    };
                    let (SendError::Transient(error)
                    | SendError::Unavailable(error)
                    | SendError::Permanent(error)
                    | SendError::Rejected(error)) = error;
                    delivery::mark_failed(&txn, row.id, attempts, &error).await?;
                    counted.push((outcome, row.template.clone()));
                    tracing::error!(delivery_id = %row.id, attempts, %error, "email given up");
                    failed_events.push(EmailFailed {
                        delivery_id: row.id.to_string(),
                        template: row.template,
                        cause_event_id: row.cause_event_id.to_string(),
                        error,
                    });
                }
            }
        }
        delivery::mark_sent_all(&txn, &accepted).await?;
        self.outbox.enqueue_all(&txn, None, &sent_events).await?;
        self.outbox.enqueue_all(&txn, None, &failed_events).await?;
        let count = delivery::release(&txn, &released).await?;
        if count > 0 {
            tracing::info!(count, "stopping: claimed emails released unsent");
        }
        if sent_events.is_empty() && failed_events.is_empty() {
            txn.commit().await?;
        } else {
            self.outbox.commit(txn).await?;
        }
        for (outcome, template) in counted {
            metrics::email(outcome, &template);
        }
        Ok(())
    }
}

/// What one round of the sender came to.
enum Round {
    /// It claimed this many emails (0: none were due) and dealt with them.
    Claimed(usize),
    /// The deployment-wide rate granted no token; the next is due after this long.
    OutOfTokens(Duration),
}

/// How often the age of the longest-waiting due email is exported.
const DUE_AGE_EVERY: Duration = Duration::from_secs(15);

/// Until `shutdown`, exports every [`DUE_AGE_EVERY`] how long the longest-waiting due email (waiting
/// to be claimed, or claimed and not yet recorded) has been due: it grows when sending stalls or
/// falls behind, whatever the cause (SMTP down, the sender stuck, too few connections).
pub fn watch_due(db: DatabaseConnection, shutdown: Shutdown) -> JoinHandle<()> {
    valued_platform::periodic::every("due email age", DUE_AGE_EVERY, shutdown, move || {
        let db = db.clone();
        async move {
            let age = delivery::oldest_due(&db)
                .await?
                .map_or(Duration::ZERO, |due| {
                    (Utc::now() - due).to_std().unwrap_or_default()
                });
            metrics::due_oldest_age(age);
            Ok(())
        }
    })
}

/// Outcomes recorded in one transaction, at most.
const RECORD_AT_MOST: usize = 512;

/// What became of one claimed email, to be recorded.
enum Outcome {
    /// Nothing left to record (the throttle put it back to wait).
    Recorded,
    /// Not started: the sender is stopping.
    Released(uuid::Uuid),
    /// Not sent: the policy's verdict.
    Skipped {
        id: uuid::Uuid,
        template: String,
        status: &'static str,
        note: &'static str,
    },
    /// The SMTP server's answer (or the failure to get one).
    Answered {
        row: Box<Model>,
        attempts: i32,
        result: Result<String, SendError>,
    },
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
