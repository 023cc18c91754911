//! The event bus: publish an envelope (only the outbox relay does) and subscribe a named consumer to
//! routing-key patterns. Two implementations with the same semantics: RabbitMQ (lapin) and in-process.

mod amqp;
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
