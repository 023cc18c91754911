use secrecy::SecretString;
use serde::Deserialize;
use valued_platform::{DatabaseSettings, GrpcSettings};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub database: DatabaseSettings,
    #[serde(default)]
    pub grpc: GrpcSettings,
    #[serde(default)]
    pub email: EmailSettings,
    #[serde(default)]
    pub smtp: SmtpSettings,
    #[serde(default)]
    pub sender: SenderSettings,
    #[serde(default)]
    pub postcodes: crate::mps::PostcodesSettings,
    #[serde(default)]
    pub mp_digest: crate::mps::MpDigestSettings,
    #[serde(default)]
    pub write_to_mp: crate::write_to_mp::WriteToMpSettings,
    /// Per trust (by ODS code): the sender name its emails show and where replies go.
    #[serde(default)]
    pub tenants: std::collections::BTreeMap<String, TenantSender>,
    #[serde(default)]
    pub throttle: ThrottleSettings,
    #[serde(default)]
    pub webhook: WebhookSettings,
    #[serde(default)]
    pub dkim: DkimSettings,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// `.eml` files in `<data_dir>/outbox` (the embedded default).
    #[default]
    File,
    Smtp,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EmailSettings {
    #[serde(default)]
    pub transport: Transport,
    /// The From of every email.
    #[serde(default = "default_from")]
    pub from: String,
    /// Where links in emails point (the gateway's public address).
    #[serde(default = "default_public_url")]
    pub public_url: String,
}

fn default_from() -> String {
    "Valued <no-reply@valued.example.org>".into()
}

fn default_public_url() -> String {
    "http://127.0.0.1:8080".into()
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            transport: Transport::File,
            from: default_from(),
            public_url: default_public_url(),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    None,
    #[default]
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SmtpSettings {
    #[serde(default = "default_smtp_host")]
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    #[serde(default)]
    pub tls: TlsMode,
    #[serde(default)]
    pub username: String,
    #[serde(default = "empty_secret")]
    pub password: SecretString,
    #[serde(default = "default_pool_size")]
    pub pool_size: u32,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
}

fn default_smtp_host() -> String {
    "127.0.0.1".into()
}

fn default_smtp_port() -> u16 {
    25
}

fn empty_secret() -> SecretString {
    SecretString::from("")
}

fn default_pool_size() -> u32 {
    16
}

fn default_timeout_seconds() -> u64 {
    30
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: default_smtp_host(),
            port: default_smtp_port(),
            tls: TlsMode::default(),
            username: String::new(),
            password: empty_secret(),
            pool_size: default_pool_size(),
            timeout_seconds: default_timeout_seconds(),
        }
    }
}

impl SmtpSettings {
    /// A plain-text SMTP server on this machine (tests, local runs).
    pub fn local(port: u16) -> Self {
        Self {
            port,
            tls: TlsMode::None,
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SenderSettings {
    /// Emails in flight at once; below `database.max_connections`, so that marking an accepted email
    /// never waits for a connection (that wait would widen the resend-after-crash window).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Attempts before a temporarily failing email is given up. Attempts that could not reach the
    /// SMTP server at all do not run this out: an outage delays email, it never loses it.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: i32,
    /// How long a claimed email belongs to one sender; after a crash it is retried once this lapses.
    #[serde(default = "default_lease_seconds")]
    pub lease_seconds: i64,
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// The first retry waits this long; each further one twice as long, up to `retry_max_ms`.
    #[serde(default = "default_retry_base_ms")]
    pub retry_base_ms: i64,
    /// The longest wait between two attempts (30 minutes).
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: i64,
    /// Emails handed to the SMTP server per second, at most, by this process (0: no limit). Set it
    /// to the relay's own limit.
    #[serde(default)]
    pub max_per_second: u32,
}

fn default_retry_base_ms() -> i64 {
    2_000
}

fn default_retry_max_ms() -> i64 {
    1_800_000
}

fn default_concurrency() -> usize {
    8
}

fn default_max_attempts() -> i32 {
    12
}

fn default_lease_seconds() -> i64 {
    60
}

fn default_poll_interval_ms() -> u64 {
    250
}

impl Default for SenderSettings {
    fn default() -> Self {
        Self {
            concurrency: default_concurrency(),
            max_attempts: default_max_attempts(),
            lease_seconds: default_lease_seconds(),
            poll_interval_ms: default_poll_interval_ms(),
            retry_base_ms: default_retry_base_ms(),
            retry_max_ms: default_retry_max_ms(),
            max_per_second: 0,
        }
    }
}

/// The per-recipient limit on non-transactional email (see [`crate::policy::throttle`]).
#[derive(Debug, Clone, Deserialize)]
pub struct ThrottleSettings {
    /// Non-transactional emails one address may get per window (0: no limit).
    #[serde(default = "default_per_recipient_per_day")]
    pub per_recipient_per_day: u32,
    /// The window, rolling: a day.
    #[serde(default = "default_window_seconds")]
    pub window_seconds: i64,
}

fn default_per_recipient_per_day() -> u32 {
    5
}

fn default_window_seconds() -> i64 {
    86_400
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            per_recipient_per_day: default_per_recipient_per_day(),
            window_seconds: default_window_seconds(),
        }
    }
}

/// The bounce and complaint webhook (see [`crate::webhook`]): served on its own HTTP listener
/// only when a secret is set.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSettings {
    /// The shared secret that signs each request (HMAC-SHA256); empty turns the webhook off.
    #[serde(default = "empty_secret")]
    pub secret: SecretString,
    /// Where the webhook listens; port 0 picks a free port (tests).
    #[serde(default = "default_webhook_listen")]
    pub listen: String,
}

fn default_webhook_listen() -> String {
    "0.0.0.0:8090".into()
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            secret: empty_secret(),
            listen: default_webhook_listen(),
        }
    }
}

/// DKIM signing of every email, when a key is configured.
#[derive(Debug, Clone, Deserialize)]
pub struct DkimSettings {
    /// The selector: the key is published at `<selector>._domainkey.<domain>`.
    #[serde(default)]
    pub selector: String,
    /// The signing domain (`d=`), normally the From address's domain.
    #[serde(default)]
    pub domain: String,
    /// The RSA private key, PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`); empty: no signing.
    #[serde(default = "empty_secret")]
    pub private_key_pem: SecretString,
}

impl Default for DkimSettings {
    fn default() -> Self {
        Self {
            selector: String::new(),
            domain: String::new(),
            private_key_pem: empty_secret(),
        }
    }
}

/// How one trust's emails present themselves. The From address stays the service's own (so SPF,
/// DKIM and DMARC still align); only its display name changes.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct TenantSender {
    /// e.g. "Guy's and St Thomas' Staff Awards".
    #[serde(default)]
    pub sender_name: String,
    /// Where replies go when the email names no one else to answer.
    #[serde(default)]
    pub reply_to: String,
}

/// The sender of `tenant`'s emails, if it has one configured (codes compared case-insensitively,
/// as environment variables arrive lower-cased).
pub fn tenant_sender<'a>(
    tenants: &'a std::collections::BTreeMap<String, TenantSender>,
    tenant: Option<&str>,
) -> Option<&'a TenantSender> {
    let tenant = tenant?;
    tenants
        .iter()
        .find(|(code, _)| code.eq_ignore_ascii_case(tenant))
        .map(|(_, sender)| sender)
}
