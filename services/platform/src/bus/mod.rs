//! The event bus: publish an envelope (only the outbox relay does) and subscribe a named consumer to
//! routing-key patterns. Two implementations with the same semantics: RabbitMQ (lapin) and in-process.

mod amqp;
pub mod dlq;
mod health;
mod in_process;
mod topic;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::task::JoinHandle;

pub use amqp::AmqpBus;
pub use health::{BusHealth, Down, Part};
pub use in_process::{DeadLetter, InProcessBus};
pub use topic::TopicPattern;

use crate::envelope::Envelope;
use crate::settings::{BusKind, BusSettings};
use crate::shutdown::Shutdown;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    #[error("broker refused the message: {0}")]
    Refused(String),
}

/// Why a handler did not finish an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth another delivery (a dependency was down): redelivered until the delivery limit.
    #[error("retry: {0:#}")]
    Retry(anyhow::Error),
    /// Can never succeed (undecodable, wrong type): dead-lettered at once.
    #[error("poison: {0:#}")]
    Poison(anyhow::Error),
}

impl HandlerError {
    /// A retry caused by the database being out of reach (connection refused, reset or terminated,
    /// the pool unable to connect, the server shutting down): the event is not at fault, so it
    /// waits in place for the database instead of using up its deliveries into the dead-letter
    /// queue.
    pub fn is_database_unavailable(&self) -> bool {
        let Self::Retry(error) = self else {
            return false;
        };
        crate::db::unreachable_in(error)
    }
}

/// Handles `envelope`; while the handler finds the database out of reach, waits and tries again in
/// place (backing off to 5 s) for as long as `wanted` says the delivery is still ours, so an outage
/// pauses the consumer (every in-flight permit waits) rather than burning delivery attempts.
/// `None` when it stopped waiting: the delivery is left unsettled, to be delivered again.
pub(crate) async fn handle_waiting_for_database(
    consumer: &str,
    handler: &dyn EventHandler,
    envelope: &Envelope,
    wanted: impl Fn() -> bool,
) -> Option<Result<(), HandlerError>> {
    let mut waits = 0u32;
    loop {
        let outcome = handler.handle(envelope).await;
        match &outcome {
            Err(error) if error.is_database_unavailable() => {
                if waits == 0 {
                    tracing::warn!(consumer, event_id = %envelope.id, %error, "database unavailable: the event waits for it");
                    crate::metrics::event(
                        consumer,
                        &envelope.event_type,
                        crate::metrics::Outcome::Waited,
                    );
                }
                waits += 1;
                tokio::time::sleep(retry_delay(waits, std::time::Duration::from_secs(5))).await;
                if !wanted() {
                    return None;
                }
            }
            _ => {
                if waits > 0 {
                    tracing::info!(consumer, event_id = %envelope.id, waits, "database back: event handled after waiting");
                }
                return Some(outcome);
            }
        }
    }
}

#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError>;
}

/// A named consumer (one durable queue on RabbitMQ) and the routing-key patterns bound to it.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub consumer: String,
    pub patterns: Vec<String>,
}

impl Subscription {
    pub fn new(consumer: &str, patterns: &[&str]) -> Self {
        Self {
            consumer: consumer.to_owned(),
            patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
        }
    }
}

#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Publishes every envelope, confirms pipelined; the result for each says whether the broker
    /// took responsibility for it. Only an `Ok` may mark an outbox row published.
    async fn publish(&self, envelopes: &[Envelope]) -> Vec<Result<(), BusError>>;

    /// Starts consuming; the task ends after `shutdown`, once in-flight handlers have finished.
    async fn subscribe(
        &self,
        subscription: Subscription,
        handler: Arc<dyn EventHandler>,
        shutdown: Shutdown,
    ) -> Result<JoinHandle<()>, BusError>;

    /// Which consumers or publisher cannot reach the broker, and since when (feeds liveness).
    fn health(&self) -> BusHealth;
}

/// Builds the bus the settings ask for.
pub async fn connect(settings: &BusSettings) -> Result<Arc<dyn EventBus>, BusError> {
    Ok(match settings.kind {
        BusKind::InProcess => Arc::new(InProcessBus::new(settings.delivery_limit)),
        BusKind::Amqp => Arc::new(AmqpBus::connect(settings).await?),
    })
}

/// The backoff before the `attempt`-th retry: 100 ms doubling, capped.
pub fn retry_delay(attempt: u32, cap: std::time::Duration) -> std::time::Duration {
    let millis = 100u64.saturating_mul(1u64 << attempt.min(16));
    std::time::Duration::from_millis(millis).min(cap)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};

    use super::*;

    fn retry(error: DbErr) -> HandlerError {
        HandlerError::Retry(anyhow::Error::new(error).context("storing the delivery"))
    }

    #[test]
    fn only_an_unreachable_database_makes_an_event_wait() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let reset = DbErr::Query(RuntimeErr::SqlxError(Arc::new(Sqlx::Io(io))));
        assert!(retry(reset).is_database_unavailable());
        let pool = DbErr::Exec(RuntimeErr::SqlxError(Arc::new(Sqlx::PoolTimedOut)));
        assert!(retry(pool).is_database_unavailable());
        assert!(
            retry(DbErr::Conn(RuntimeErr::Internal("refused".into()))).is_database_unavailable()
        );

        assert!(!retry(DbErr::RecordNotFound("delivery".into())).is_database_unavailable());
        let decode = DbErr::Query(RuntimeErr::SqlxError(Arc::new(Sqlx::RowNotFound)));
        assert!(!retry(decode).is_database_unavailable());
        let poison = HandlerError::Poison(anyhow::Error::new(DbErr::Conn(RuntimeErr::Internal(
            "refused".into(),
        ))));
        assert!(!poison.is_database_unavailable(), "poison is never retried");
    }

    /// Fails with the database out of reach a number of times, then succeeds.
    struct DatabaseBackAfter(AtomicU32);

    #[async_trait]
    impl EventHandler for DatabaseBackAfter {
        async fn handle(&self, _: &Envelope) -> Result<(), HandlerError> {
            if self.0.fetch_sub(1, Ordering::SeqCst) > 0 {
                return Err(retry(DbErr::Conn(RuntimeErr::Internal(
                    "connection refused".into(),
                ))));
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_database_outage_does_not_use_up_deliveries() {
        // One delivery only: any failure that counted would dead-letter the event.
        let bus = InProcessBus::new(1);
        let handler = Arc::new(DatabaseBackAfter(AtomicU32::new(3)));
        let shutdown = Shutdown::new();
        bus.subscribe(
            Subscription::new("test", &["ballot.#"]),
            handler.clone(),
            shutdown.clone(),
        )
        .await
        .unwrap();
        let envelope = Envelope::new(
            "test",
            None,
            &valued_proto::events::v1::BallotOpened::default(),
        );
        let published = bus.publish(std::slice::from_ref(&envelope)).await;
        assert!(
            published.into_iter().all(|r| r.is_ok()),
            "handled in the end"
        );
        assert!(bus.dead_letters().is_empty(), "nothing dead-lettered");
        shutdown.trigger();
    }
}
