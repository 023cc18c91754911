//! Settings shared by every service. Each service crate adds its own section; the `valued` binary
//! composes them and loads defaults → optional file → `VALUED__SECTION__KEY` environment.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use config::{Source, Value, ValueKind};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

/// Environment variables named `VALUED__SECTION__KEY` set `section.key`.
const ENVIRONMENT_PREFIX: &str = "VALUED__";
/// How `config` marks a value that came from the environment.
const FROM_ENVIRONMENT: &str = "the environment";

/// Loads `T` from compiled-in TOML defaults, then an optional file, then the environment
/// (`VALUED__BUS__KIND=amqp` sets `bus.kind`). A key that no settings struct reads — a typo in the
/// file or in a `VALUED__…` variable — is refused, not ignored.
pub fn load<T: DeserializeOwned>(defaults_toml: &str, file: Option<&Path>) -> Result<T, LoadError> {
    load_from(defaults_toml, file, environment()?)
}

/// [`load`] with `environment` (name, value) in place of the process's own variables
/// ([`environment`]).
pub fn load_from<T: DeserializeOwned>(
    defaults_toml: &str,
    file: Option<&Path>,
    environment: impl IntoIterator<Item = (String, String)>,
) -> Result<T, LoadError> {
    let mut builder = config::Config::builder().add_source(config::File::from_str(
        defaults_toml,
        config::FileFormat::Toml,
    ));
    if let Some(file) = file {
        builder = builder.add_source(config::File::from(file).required(true));
    }
    let config = builder
        .add_source(
            config::Environment::with_prefix("VALUED")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(environment.into_iter().collect())),
        )
        .build()?;
    let given = config.collect()?;
    let mut ignored = Vec::new();
    let settings = serde_ignored::deserialize(config, |path| ignored.push(segments(&path)))?;
    if ignored.is_empty() {
        return Ok(settings);
    }
    Err(LoadError::Unknown(UnknownSettings::new(
        &ignored,
        &given,
        &known_keys::<T>(),
        file,
    )))
}

/// The process's `VALUED__…` variables.
pub fn environment() -> Result<Vec<(String, String)>, LoadError> {
    std::env::vars_os()
        .filter_map(|(name, value)| {
            let name = name.into_string().ok()?;
            let ours = name
                .get(..ENVIRONMENT_PREFIX.len())
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case(ENVIRONMENT_PREFIX));
            ours.then(|| match value.into_string() {
                Ok(value) => Ok((name, value)),
                Err(_) => Err(LoadError::Config(config::ConfigError::Message(format!(
                    "{name} is not valid Unicode"
                )))),
            })
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Unknown(#[from] UnknownSettings),
}

/// Keys that no settings struct reads, as they were given: each would otherwise be ignored, and
/// the setting it was meant to be left at its default.
#[derive(Debug, thiserror::Error)]
#[error("unknown setting{}: {}", if .0.len() == 1 { "" } else { "s" }, list(.0))]
pub struct UnknownSettings(Vec<UnknownKey>);

impl UnknownSettings {
    /// Each leaf under the `ignored` paths of the `given` tree, named as its source (the
    /// environment, `file` or the defaults) names it, with the nearest of the `known` keys.
    fn new(
        ignored: &[Vec<String>],
        given: &config::Map<String, Value>,
        known: &BTreeSet<String>,
        file: Option<&Path>,
    ) -> Self {
        let mut unknown = Vec::new();
        for path in ignored {
            match find(given, path) {
                Some(value) => leaves(value, path.clone(), &mut unknown),
                None => unknown.push((path.clone(), None)),
            }
        }
        let unknown_paths: BTreeSet<String> =
            unknown.iter().map(|(path, _)| path.join(".")).collect();
        let mut given_leaves = Vec::new();
        for (key, value) in given {
            leaves(value, vec![key.clone()], &mut given_leaves);
        }
        let candidates: BTreeSet<String> = given_leaves
            .into_iter()
            .map(|(path, _)| path.join("."))
            .filter(|path| !unknown_paths.contains(path))
            .chain(known.iter().cloned())
            .collect();
        let mut keys: Vec<UnknownKey> = unknown
            .into_iter()
            .map(|(path, origin)| {
                let nearest = nearest(&path, &candidates);
                let source = match origin.as_deref() {
                    Some(FROM_ENVIRONMENT) => KeySource::Environment,
                    Some(origin) => KeySource::File(
                        file.map_or_else(|| origin.to_owned(), |f| f.display().to_string()),
                    ),
                    None => KeySource::Defaults,
                };
                UnknownKey {
                    path,
                    source,
                    nearest,
                }
            })
            .collect();
        keys.sort_by(|a, b| a.path.cmp(&b.path));
        Self(keys)
    }

    /// The unknown keys, as given (`VALUED__A__B` or `a.b`).
    pub fn keys(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|key| key.source.name(&key.path))
            .collect()
    }
}

fn list(keys: &[UnknownKey]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Debug)]
struct UnknownKey {
    path: Vec<String>,
    source: KeySource,
    nearest: Option<Vec<String>>,
}

impl std::fmt::Display for UnknownKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source.name(&self.path))?;
        match &self.source {
            KeySource::Environment => {}
            KeySource::File(file) => write!(f, " in {file}")?,
            KeySource::Defaults => f.write_str(" in the compiled-in defaults")?,
        }
        match &self.nearest {
            Some(nearest) => write!(f, " (did you mean {}?)", self.source.name(nearest)),
            None => Ok(()),
        }
    }
}

#[derive(Debug)]
enum KeySource {
    Environment,
    File(String),
    Defaults,
}

impl KeySource {
    /// `path` as this source spells it: `VALUED__A__B` in the environment, `a.b` in a file.
    fn name(&self, path: &[String]) -> String {
        match self {
            Self::Environment => format!("{ENVIRONMENT_PREFIX}{}", path.join("__").to_uppercase()),
            _ => path.join("."),
        }
    }
}

/// The keys of an ignored path, as `config` does: a map key or a list index each.
fn segments(path: &serde_ignored::Path<'_>) -> Vec<String> {
    use serde_ignored::Path;
    match path {
        Path::Root => Vec::new(),
        Path::Seq { parent, index } => [segments(parent), vec![index.to_string()]].concat(),
        Path::Map { parent, key } => [segments(parent), vec![key.clone()]].concat(),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => segments(parent),
    }
}

fn find<'a>(given: &'a config::Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(given.get(first)?, |value, key| match &value.kind {
            ValueKind::Table(table) => table.get(key),
            ValueKind::Array(items) => items.get(key.parse::<usize>().ok()?),
            _ => None,
        })
}

/// Every value under `value` that is not a non-empty table, with where it came from.
fn leaves(value: &Value, path: Vec<String>, out: &mut Vec<(Vec<String>, Option<String>)>) {
    match &value.kind {
        ValueKind::Table(table) if !table.is_empty() => {
            for (key, value) in table {
                leaves(value, [path.clone(), vec![key.clone()]].concat(), out);
            }
        }
        _ => out.push((path, value.origin().map(str::to_owned))),
    }
}

/// The known key closest to `unknown` in spelling, if it is close enough to be a typo of it. A
/// `*` in a known key (a map's own keys) matches the unknown key's word in its place.
fn nearest(unknown: &[String], candidates: &BTreeSet<String>) -> Option<Vec<String>> {
    let given = unknown.join(".");
    let close_enough = (given.len() / 5).max(3);
    candidates
        .iter()
        .map(|candidate| {
            let filled: Vec<String> = candidate
                .split('.')
                .enumerate()
                .map(|(i, word)| match (word, unknown.get(i)) {
                    ("*", Some(given)) => given.clone(),
                    _ => word.to_owned(),
                })
                .collect();
            (strsim::osa_distance(&given, &filled.join(".")), filled)
        })
        .filter(|(distance, _)| *distance <= close_enough)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, filled)| filled)
}

/// Every key `T` reads, as `a.b.c`; a map's own keys are `*`. Found by deserializing `T` from a
/// stand-in that offers each struct every field it names and each map one key, so it needs no
/// list kept by hand. A type the stand-in cannot satisfy ends the walk with the keys found so far.
pub fn known_keys<T: DeserializeOwned>() -> BTreeSet<String> {
    let keys = RefCell::new(BTreeSet::new());
    let _ = T::deserialize(Probe {
        path: String::new(),
        keys: &keys,
    });
    keys.into_inner()
}

type ProbeError = de::value::Error;

struct Probe<'a> {
    path: String,
    keys: &'a RefCell<BTreeSet<String>>,
}

impl<'a> Probe<'a> {
    fn child(&self, key: &str) -> Self {
        Self {
            path: if self.path.is_empty() {
                key.to_owned()
            } else {
                format!("{}.{key}", self.path)
            },
            keys: self.keys,
        }
    }

    fn leaf(&self) {
        self.keys.borrow_mut().insert(self.path.clone());
    }

    fn fields(self, fields: &'static [&'static str]) -> ProbeFields<'a> {
        ProbeFields {
            probe: self,
            fields: fields.iter(),
            current: "",
        }
    }

    fn empty_seq() -> de::value::SeqDeserializer<std::iter::Empty<String>, ProbeError> {
        de::value::SeqDeserializer::new(std::iter::empty())
    }
}

/// Deserializer methods for the narrower numbers, each as its widest.
macro_rules! narrower {
    ($($($method:ident)+ => $widest:ident),+ $(,)?) => {
        $($(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
                self.$widest(visitor)
            }
        )+)+
    };
}

impl<'de> de::Deserializer<'de> for Probe<'_> {
    type Error = ProbeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.leaf();
        visitor.visit_str("")
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.leaf();
        visitor.visit_bool(false)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.leaf();
        visitor.visit_i64(0)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.leaf();
        visitor.visit_u64(0)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.leaf();
        visitor.visit_f64(0.0)
    }

    narrower! {
        deserialize_i8 deserialize_i16 deserialize_i32 => deserialize_i64,
        deserialize_u8 deserialize_u16 deserialize_u32 => deserialize_u64,
        deserialize_f32 => deserialize_f64,
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.leaf();
        visitor.visit_char('x')
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.leaf();
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.leaf();
        visitor.visit_seq(Self::empty_seq())
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        visitor.visit_map(self.fields(&["*"]))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        visitor.visit_map(self.fields(fields))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.leaf();
        let variant = variants
            .first()
            .ok_or_else(|| de::Error::custom("an enum without variants"))?;
        visitor.visit_enum(ProbeVariant {
            probe: self,
            variant,
        })
    }

    serde::forward_to_deserialize_any! {
        str string bytes byte_buf identifier ignored_any
    }
}

/// A struct's fields (or a map's one key, `*`), each with a [`Probe`] for its value.
struct ProbeFields<'a> {
    probe: Probe<'a>,
    fields: std::slice::Iter<'static, &'static str>,
    current: &'static str,
}

impl<'de> de::MapAccess<'de> for ProbeFields<'_> {
    type Error = ProbeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeError> {
        let Some(field) = self.fields.next() else {
            return Ok(None);
        };
        self.current = field;
        seed.deserialize(IntoDeserializer::<ProbeError>::into_deserializer(*field))
            .map(Some)
    }

    fn next_value_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, ProbeError> {
        seed.deserialize(self.probe.child(self.current))
    }
}

/// An enum's first variant.
struct ProbeVariant<'a> {
    probe: Probe<'a>,
    variant: &'static str,
}

impl<'de> de::EnumAccess<'de> for ProbeVariant<'_> {
    type Error = ProbeError;
    type Variant = Self;

    fn variant_seed<S: de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self), ProbeError> {
        let variant = seed.deserialize(IntoDeserializer::<ProbeError>::into_deserializer(
            self.variant,
        ))?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for ProbeVariant<'_> {
    type Error = ProbeError;

    fn unit_variant(self) -> Result<(), ProbeError> {
        Ok(())
    }

    fn newtype_variant_seed<S: de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<S::Value, ProbeError> {
        seed.deserialize(self.probe)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        visitor.visit_seq(Probe::empty_seq())
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        visitor.visit_map(self.probe.fields(fields))
    }
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
    /// How long a call may run before it is answered CANCELLED ("Timeout expired").
    pub request_timeout_seconds: u64,
    /// Calls the server handles at once, from all its callers; more are refused at once with
    /// RESOURCE_EXHAUSTED instead of queueing, and counted (`valued.rpc.server.shed`). Health
    /// checks are never refused. Above the gateway's own `http.max_in_flight`, so that one busy
    /// gateway is shed by itself first.
    pub max_in_flight: usize,
    /// A connection is closed gracefully (GOAWAY; calls in flight finish) after this long, so that
    /// callers connect again and spread over the replicas a scale-up added. 0 (the default):
    /// never. Not on by default: a tonic client sends a call that races the close onto the closing
    /// connection and fails it CANCELLED ("connection closed") without the service seeing it; only
    /// the gateway's retried calls (`retry`) survive that.
    pub max_connection_age_seconds: u64,
}

impl Default for GrpcSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 0,
            reflection: false,
            service_key: None,
            previous_service_key: None,
            request_timeout_seconds: 30,
            max_in_flight: 1024,
            max_connection_age_seconds: 0,
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
    /// Deliveries of one message before it is dead-lettered (unless `queue_policies`).
    pub delivery_limit: u32,
    /// The consumer queues' delivery limit, dead-lettering and overflow come from the broker's
    /// policies (in Kubernetes the operator's `Policy` resources) instead of queue arguments, so
    /// that an operator changes them on queues that exist, with no redeclaring; a queue that
    /// exists already is then used as it is. Off: they are declared from these settings.
    pub queue_policies: bool,
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
            queue_policies: false,
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

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Sample {
        smtp: Smtp,
        tenants: std::collections::BTreeMap<String, Tenant>,
        kind: BusKind,
        key: Option<SecretString>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Smtp {
        host: String,
        port: u16,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Tenant {
        sender_name: String,
    }

    fn from_environment(variables: &[(&str, &str)]) -> Result<Sample, LoadError> {
        let variables = variables
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()));
        load_from("", None, variables)
    }

    fn refusal(loaded: Result<Sample, LoadError>) -> String {
        match loaded {
            Err(LoadError::Unknown(unknown)) => unknown.to_string(),
            other => panic!("expected unknown settings, got {other:?}"),
        }
    }

    #[test]
    fn a_misspelt_variable_is_refused_naming_it_and_the_nearest_key() {
        let refused = refusal(from_environment(&[
            ("VALUED__SMTP__PROT", "2525"),
            ("VALUED__SMTP__HOST", "relay"),
        ]));
        assert_eq!(
            refused,
            "unknown setting: VALUED__SMTP__PROT (did you mean VALUED__SMTP__PORT?)"
        );
        // A key far from every known one is named without a guess; a whole unknown section by
        // each variable under it.
        let refused = refusal(from_environment(&[
            ("VALUED__SMTP__COLOUR", "blue"),
            ("valued__smpt__host", "relay"),
        ]));
        assert_eq!(
            refused,
            "unknown settings: VALUED__SMPT__HOST (did you mean VALUED__SMTP__HOST?); \
             VALUED__SMTP__COLOUR"
        );
    }

    #[test]
    fn a_misspelt_file_key_is_refused_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("valued-unknown-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("valued.toml");
        std::fs::write(&file, "[smtp]\nhost = \"relay\"\nprot = 2525\n").unwrap();
        let loaded: Result<Sample, _> = load_from("", Some(&file), []);
        let refused = refusal(loaded);
        assert_eq!(
            refused,
            format!(
                "unknown setting: smtp.prot in {} (did you mean smtp.port?)",
                file.display()
            )
        );
        // The compiled-in defaults are checked as well.
        let loaded: Result<Sample, _> = load_from("[smtp]\nhots = \"x\"\n", None, []);
        assert_eq!(
            refusal(loaded),
            "unknown setting: smtp.hots in the compiled-in defaults (did you mean smtp.host?)"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_map_takes_any_key_but_its_entries_only_known_fields() {
        let loaded = from_environment(&[
            ("VALUED__TENANTS__RXX__SENDER_NAME", "Trust staff awards"),
            ("VALUED__KIND", "amqp"),
            ("VALUED__KEY", "a key"),
        ])
        .unwrap();
        assert_eq!(loaded.tenants["rxx"].sender_name, "Trust staff awards");
        let refused = refusal(from_environment(&[(
            "VALUED__TENANTS__RXX__SENDER_NAM",
            "Trust staff awards",
        )]));
        assert_eq!(
            refused,
            "unknown setting: VALUED__TENANTS__RXX__SENDER_NAM \
             (did you mean VALUED__TENANTS__RXX__SENDER_NAME?)"
        );
    }

    #[test]
    fn the_known_keys_are_every_field_with_maps_as_a_star() {
        let known: Vec<String> = known_keys::<Sample>().into_iter().collect();
        assert_eq!(
            known,
            [
                "key",
                "kind",
                "smtp.host",
                "smtp.port",
                "tenants.*.sender_name"
            ]
        );
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
