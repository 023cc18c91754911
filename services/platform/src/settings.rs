//! Settings shared by every service. Each service crate adds its own section; the `valued` binary
//! composes them and loads defaults → optional file → `VALUED__SECTION__KEY` environment.

use std::path::Path;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Loads `T` from compiled-in TOML defaults, then an optional file, then the environment
/// (`VALUED__BUS__KIND=amqp` sets `bus.kind`).
pub fn load<T: DeserializeOwned>(
    defaults_toml: &str,
    file: Option<&Path>,
) -> Result<T, config::ConfigError> {
    let mut builder = config::Config::builder().add_source(config::File::from_str(
        defaults_toml,
        config::FileFormat::Toml,
    ));
    if let Some(file) = file {
        builder = builder.add_source(config::File::from(file).required(true));
    }
    builder
        .add_source(
            config::Environment::with_prefix("VALUED")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                // Only these keys are lists (comma-separated); every other value is kept whole.
                .list_separator(",")
                .with_list_parse_key("nomination.auth.platform_admins"),
        )
        .build()?
        .try_deserialize()
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `postgres://…` or `sqlite://…`; empty means a SQLite file named after the service in the data
    /// directory (the embedded default).
    #[serde(default)]
    pub url: String,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Apply pending migrations when the service starts (the embedded default). Kubernetes turns
    /// this off and runs `valued migrate <service>` as a Job instead.
    #[serde(default = "default_true")]
    pub migrate_on_start: bool,
}

fn default_true() -> bool {
    true
}

fn default_max_connections() -> u32 {
    10
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: default_max_connections(),
            migrate_on_start: true,
        }
    }
}

impl DatabaseSettings {
    pub fn postgres(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// The URL to connect to, resolving the embedded default for `service`.
    pub fn resolved_url(&self, data_dir: &Path, service: &str) -> String {
        if self.url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.join(format!("{service}.db")).display()
            )
        } else {
            self.url.clone()
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct GrpcSettings {
    #[serde(default = "default_host")]
    pub host: String,
    /// 0 picks a free port (tests).
    #[serde(default)]
    pub port: u16,
}

fn default_host() -> String {
    "127.0.0.1".into()
}

impl Default for GrpcSettings {
    fn default() -> Self {
        Self {
            host: default_host(),
            port: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum BusKind {
    /// Every service in one process; same topic, ack and redelivery semantics as RabbitMQ.
    #[default]
    InProcess,
    Amqp,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BusSettings {
    #[serde(default)]
    pub kind: BusKind,
    #[serde(default = "default_amqp_url")]
    pub amqp_url: SecretString,
    /// Prefixes the exchange and every queue, so that deployments (and tests) can share a broker.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Deliveries of one message before it is dead-lettered.
    #[serde(default = "default_delivery_limit")]
    pub delivery_limit: u32,
    /// Messages a consumer handles at once.
    #[serde(default = "default_prefetch")]
    pub prefetch: u16,
    /// The longest any wait on the broker may take (connecting, declaring, a publisher confirm,
    /// an ack): past it the connection or channel is torn down and built afresh.
    #[serde(default = "default_recovery_seconds")]
    pub recovery_seconds: u64,
    /// How long a consumer or the publisher may be without the broker before the process reports
    /// itself not live (so that an orchestrator restarts it).
    #[serde(default = "default_stalled_seconds")]
    pub stalled_seconds: u64,
}

fn default_recovery_seconds() -> u64 {
    15
}

fn default_stalled_seconds() -> u64 {
    60
}

fn default_amqp_url() -> SecretString {
    SecretString::from("amqp://guest:guest@127.0.0.1:5672/%2f")
}

fn default_prefix() -> String {
    "valued".into()
}

fn default_delivery_limit() -> u32 {
    10
}

fn default_prefetch() -> u16 {
    32
}

impl Default for BusSettings {
    fn default() -> Self {
        Self {
            kind: BusKind::InProcess,
            amqp_url: default_amqp_url(),
            prefix: default_prefix(),
            delivery_limit: default_delivery_limit(),
            prefetch: default_prefetch(),
            recovery_seconds: default_recovery_seconds(),
            stalled_seconds: default_stalled_seconds(),
        }
    }
}

impl BusSettings {
    pub fn amqp(url: &str, prefix: &str) -> Self {
        Self {
            kind: BusKind::Amqp,
            amqp_url: SecretString::from(url),
            prefix: prefix.into(),
            ..Self::default()
        }
    }

    pub fn amqp_url(&self) -> &str {
        self.amqp_url.expose_secret()
    }

    pub fn recovery_bound(&self) -> Duration {
        Duration::from_secs(self.recovery_seconds.max(1))
    }

    pub fn stalled_after(&self) -> Duration {
        Duration::from_secs(self.stalled_seconds.max(1))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct RelaySettings {
    /// Outbox rows published per round (confirms are awaited together).
    #[serde(default = "default_batch_size")]
    pub batch_size: u64,
    /// How often the relay looks for rows when nobody woke it.
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// Ceiling of the exponential backoff after a failed round.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
}

fn default_batch_size() -> u64 {
    100
}

fn default_poll_interval_ms() -> u64 {
    200
}

fn default_max_backoff_ms() -> u64 {
    5_000
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            batch_size: default_batch_size(),
            poll_interval_ms: default_poll_interval_ms(),
            max_backoff_ms: default_max_backoff_ms(),
        }
    }
}

impl RelaySettings {
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    pub fn max_backoff(&self) -> Duration {
        Duration::from_millis(self.max_backoff_ms)
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetrySettings {
    /// `tracing_subscriber::EnvFilter` directives; `RUST_LOG` wins when set.
    #[serde(default = "default_filter")]
    pub filter: String,
    #[serde(default)]
    pub format: LogFormat,
    /// OTLP/gRPC endpoint of an OpenTelemetry collector, e.g. `http://otel-collector:4317`; traces and
    /// metrics are exported only when set.
    #[serde(default)]
    pub otlp_endpoint: String,
}

fn default_filter() -> String {
    "info,sqlx=warn,sea_orm=warn,lapin=warn,h2=warn,tower=warn,hyper=warn".into()
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            filter: default_filter(),
            format: LogFormat::Pretty,
            otlp_endpoint: String::new(),
        }
    }
}
