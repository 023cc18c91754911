//! What every Valued service builds on: configuration, telemetry, health, graceful shutdown, the event
//! envelope, the event bus (RabbitMQ and in-process behind one trait), the transactional outbox and its
//! relay, and the idempotent inbox.

pub mod auth;
pub mod balance;
pub mod bus;
pub mod db;
pub mod domain;
pub mod envelope;
pub mod erasure;
pub mod grpc;
pub mod host;
pub mod idempotency;
pub mod import;
pub mod inbox;
pub mod limits;
pub mod link_token;
pub mod metrics;
pub mod migrations;
pub mod outbox;
pub mod periodic;
pub mod sealed;
pub mod settings;
pub mod shutdown;
pub mod subject_access;
pub mod suppression;
pub mod telemetry;
pub mod uk_time;

pub use bus::{EventBus, EventHandler, HandlerError, Subscription};
pub use envelope::Envelope;
pub use settings::{BusSettings, DatabaseSettings, GrpcSettings, RelaySettings, TelemetrySettings};
pub use shutdown::Shutdown;

/// What a service gets from the process that hosts it: the bus it publishes and consumes on, the
/// shutdown signal, where embedded-mode files live, and how its outbox relay behaves.
#[derive(Clone)]
pub struct Platform {
    pub bus: std::sync::Arc<dyn EventBus>,
    pub shutdown: Shutdown,
    pub data_dir: std::path::PathBuf,
    pub relay: RelaySettings,
}
