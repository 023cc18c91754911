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
                .try_parsing(true),
        )
        .build()?
        .try_deserialize()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `postgres://…` or `sqlite://…`; empty means a SQLite file named after the service in the data
    /// directory (the embedded default). A secret: it usually carries a password, and never prints.
    pub url: SecretString,
    pub max_connections: u32,
    /// Apply pending migrations when the service starts (the embedded default). Kubernetes turns
    /// this off and runs `valued migrate <service>` as a Job instead.
    pub migrate_on_start: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: SecretString::from(""),
            max_connections: 10,
            migrate_on_start: true,
        }
    }
}

impl DatabaseSettings {
    pub fn postgres(url: impl Into<String>) -> Self {
        Self {
            url: SecretString::from(url.into()),
            ..Self::default()
        }
    }

    /// The URL to connect to, resolving the embedded default for `service`.
    pub fn resolved_url(&self, data_dir: &Path, service: &str) -> String {
        let url = self.url.expose_secret();
        if url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.join(format!("{service}.db")).display()
            )
        } else {
            url.to_owned()
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct GrpcSettings {
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// Serve gRPC reflection, which lists every call to anyone who asks: for a developer's
    /// machine, off unless set.
    pub reflection: bool,
    /// The key the service's callers sign their service credentials with (see
    /// [`crate::auth::service`]): a secret of at least 32 random bytes, shared with the processes
    /// that call this service and with no other. No default: a service without one does not start
    /// (`valued up` makes random ones for its single process).
    pub service_key: Option<SecretString>,
    /// While the key is being rotated, the one before it, still accepted.
    pub previous_service_key: Option<SecretString>,
}

impl Default for GrpcSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 0,
            reflection: false,
            service_key: None,
            previous_service_key: None,
        }
    }
}

impl GrpcSettings {
    /// The gate that checks callers of `service`: an error naming the setting when the key is
    /// missing or short.
    pub fn gate(&self, service: &str) -> anyhow::Result<crate::auth::service::Gate> {
        let key = crate::auth::service::check_key(
            &format!("{}.grpc.service_key", service.replace('-', "_")),
            self.service_key.as_ref(),
        )?;
        Ok(crate::auth::service::Gate::new(
            service,
            key,
            self.previous_service_key.as_ref(),
        ))
    }

    /// How a process calling `service` (this service's settings) signs its calls as `caller`.
    pub fn credential(
        &self,
        caller: &str,
        service: &str,
    ) -> anyhow::Result<crate::auth::service::Credential> {
        let key = crate::auth::service::check_key(
            &format!("{}.grpc.service_key", service.replace('-', "_")),
            self.service_key.as_ref(),
        )?;
        Ok(crate::auth::service::Credential::new(caller, service, key))
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
#[serde(default)]
pub struct BusSettings {
    pub kind: BusKind,
    /// A secret: it carries the broker's password.
    pub amqp_url: SecretString,
    /// Prefixes the exchange and every queue, so that deployments (and tests) can share a broker.
    pub prefix: String,
    /// Deliveries of one message before it is dead-lettered.
    pub delivery_limit: u32,
    /// Messages a consumer handles at once.
    pub prefetch: u16,
    /// The longest any wait on the broker may take (connecting, declaring, a publisher confirm,
    /// an ack): past it the connection or channel is torn down and built afresh.
    pub recovery_seconds: u64,
    /// How long a consumer or the publisher may be without the broker before the process reports
    /// itself not live (so that an orchestrator restarts it).
    pub stalled_seconds: u64,
}

impl Default for BusSettings {
    fn default() -> Self {
        Self {
            kind: BusKind::InProcess,
            amqp_url: SecretString::from("amqp://guest:guest@127.0.0.1:5672/%2f"),
            prefix: "valued".into(),
            delivery_limit: 10,
            prefetch: 32,
            recovery_seconds: 15,
            stalled_seconds: 60,
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
#[serde(default)]
pub struct RelaySettings {
    /// Outbox rows published per round (confirms are awaited together).
    pub batch_size: u64,
    /// How often the relay looks for rows when nobody woke it.
    pub poll_interval_ms: u64,
    /// Ceiling of the exponential backoff after a failed round.
    pub max_backoff_ms: u64,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            batch_size: 100,
            poll_interval_ms: 200,
            max_backoff_ms: 2_000,
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
#[serde(default)]
pub struct TelemetrySettings {
    /// `tracing_subscriber::EnvFilter` directives; `RUST_LOG` wins when set.
    pub filter: String,
    pub format: LogFormat,
    /// OTLP/gRPC endpoint of an OpenTelemetry collector, e.g. `http://otel-collector:4317`; traces and
    /// metrics are exported only when set.
    pub otlp_endpoint: String,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            filter: "info,sqlx=warn,sea_orm=warn,lapin=warn,h2=warn,tower=warn,hyper=warn".into(),
            format: LogFormat::Pretty,
            otlp_endpoint: String::new(),
        }
    }
}

/// Deserializes a list given either as a list (TOML) or as one comma-separated string (an
/// environment variable, e.g. `VALUED__NOMINATION__AUTH__PLATFORM_ADMINS=a@x.org,b@x.org`); blank
/// items are dropped. For a service's list settings, so the loader need not know their keys.
pub fn comma_separated<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Items {
        List(Vec<String>),
        Text(String),
    }
    let items = match Items::deserialize(deserializer)? {
        Items::List(items) => items,
        Items::Text(text) => text.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Admins {
        #[serde(deserialize_with = "comma_separated")]
        list: Vec<String>,
    }

    #[test]
    fn a_list_comes_as_a_list_or_as_comma_separated_text() {
        let from_toml: Admins = toml_like(r#"{"list": ["a@x.org", " b@x.org "]}"#);
        let from_env: Admins = toml_like(r#"{"list": "a@x.org, b@x.org,"}"#);
        assert_eq!(from_toml.list, ["a@x.org", "b@x.org"]);
        assert_eq!(from_env.list, ["a@x.org", "b@x.org"]);
    }

    fn toml_like<T: DeserializeOwned>(json: &str) -> T {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn database_urls_never_print() {
        let settings = DatabaseSettings::postgres("postgres://valued:hunter2@db/nomination");
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert_eq!(
            settings.resolved_url(Path::new("."), "nomination"),
            "postgres://valued:hunter2@db/nomination"
        );
    }
}
