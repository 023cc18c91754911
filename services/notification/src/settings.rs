use secrecy::SecretString;
use serde::Deserialize;
use valued_platform::{DatabaseSettings, GrpcSettings};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub grpc: GrpcSettings,
    pub email: EmailSettings,
    pub smtp: SmtpSettings,
    pub sender: SenderSettings,
    pub postcodes: crate::mps::PostcodesSettings,
    pub mp_digest: crate::mps::MpDigestSettings,
    pub write_to_mp: crate::mps::write_to_mp::WriteToMpSettings,
    pub throttle: ThrottleSettings,
    pub policy: PolicySettings,
    pub webhook: WebhookSettings,
    pub dkim: DkimSettings,
    /// How long deliveries, inbox rows and letters to MPs keep what they hold about people.
    pub retention: crate::retention::RetentionSettings,
    /// The OpenID Connect issuer and audience signed-in admins' ID tokens are checked against
    /// (`valued` takes them from `nomination.auth` when not set). Roles come from this service's
    /// own copy of the grants.
    pub auth: valued_platform::auth::OidcSettings,
    /// Let the gateway list deliveries on its own behalf (any caller with a service credential and
    /// no ID token), for the developer's `/outbox` page (every email, with personal details). `valued up` sets it with `gateway.outbox`; a deployment
    /// leaves it off, and then only platform admins list deliveries.
    pub developer_outbox: bool,
    /// How often one client address and one email address may write to an MP and confirm letters.
    pub rate_limits: valued_platform::limits::RateLimits,
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
#[serde(default)]
pub struct EmailSettings {
    pub transport: Transport,
    /// The From of every email.
    pub from: String,
    /// Where links in emails point (the gateway's public address).
    pub public_url: String,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            transport: Transport::File,
            from: "Valued <no-reply@valued.example.org>".into(),
            public_url: "http://127.0.0.1:8080".into(),
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
#[serde(default)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    pub password: SecretString,
    pub pool_size: u32,
    pub timeout_seconds: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 25,
            tls: TlsMode::default(),
            username: String::new(),
            password: SecretString::from(""),
            pool_size: 16,
            timeout_seconds: 30,
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
#[serde(default)]
pub struct SenderSettings {
    /// Emails on the wire at once (SMTP connections in use).
    pub concurrency: usize,
    /// Emails sent or being sent and not yet recorded, at most (at least `concurrency`): a
    /// connection goes on to its next email while earlier outcomes are written, and this bounds
    /// what a crash can send twice (with the same Message-ID, see [`crate::sender`]).
    pub unrecorded_at_most: usize,
    /// Due deliveries claimed at once: one claim, one policy decision and a few recording
    /// transactions serve the whole batch. Each is sent within its lease (`lease_seconds`), so keep
    /// it to what `concurrency` connections send in well under that.
    pub claim_batch: usize,
    /// PostgreSQL connections of the sender's own, apart from `database.max_connections` (`0`: it
    /// shares the service's).
    pub database_connections: u32,
    /// Attempts before a temporarily failing email is given up. Attempts that could not reach the
    /// SMTP server at all do not run this out: an outage delays email, it never loses it.
    pub max_attempts: i32,
    /// How long a claimed email belongs to one sender; after a crash it is retried once this lapses.
    pub lease_seconds: i64,
    pub poll_interval_ms: u64,
    /// The first retry waits this long; each further one twice as long, up to `retry_max_ms`.
    pub retry_base_ms: i64,
    /// The longest wait between two attempts (30 minutes).
    pub retry_max_ms: i64,
    /// Emails handed to the SMTP relay per second, at most, by the whole deployment: every replica
    /// draws on one token bucket in this service's database, holding one second's worth
    /// ([`crate::db::smtp_rate`]). In any window of `w` seconds at most `w × max_per_second` plus
    /// one second's worth go, so set it a little below the relay's account limit. 0: no limit, and
    /// the bucket is never touched.
    pub max_per_second: u32,
}

impl Default for SenderSettings {
    fn default() -> Self {
        Self {
            concurrency: 8,
            unrecorded_at_most: 32,
            claim_batch: 256,
            database_connections: 4,
            max_attempts: 12,
            lease_seconds: 60,
            poll_interval_ms: 250,
            retry_base_ms: 2_000,
            retry_max_ms: 1_800_000,
            max_per_second: 0,
        }
    }
}

/// The per-recipient limit on non-transactional email (see [`crate::policy::throttle`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ThrottleSettings {
    /// Non-transactional emails one address may get per window (0: no limit).
    pub per_recipient_per_day: u32,
    /// The window, rolling: a day.
    pub window_seconds: i64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            per_recipient_per_day: 5,
            window_seconds: 86_400,
        }
    }
}

/// The sending policy's limits that no one can opt out of (see [`crate::policy::unsolicited`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PolicySettings {
    /// Emails that public forms may make us send to one typed address in any 24 hours
    /// (confirmation links, resume links, a nominee's thanks); beyond it they are recorded as
    /// `capped` and never sent (0: no cap).
    pub unsolicited_per_recipient_per_day: u32,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            unsolicited_per_recipient_per_day: 5,
        }
    }
}

/// The bounce and complaint webhook (see [`crate::webhook`]): served on its own HTTP listener
/// only when a secret is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// The shared secret that signs each request (HMAC-SHA256); empty turns the webhook off.
    pub secret: SecretString,
    /// Where the webhook listens; port 0 picks a free port (tests).
    pub listen: String,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            secret: SecretString::from(""),
            listen: "0.0.0.0:8090".into(),
        }
    }
}

/// DKIM signing of every email, when a key is configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DkimSettings {
    /// The selector: the key is published at `<selector>._domainkey.<domain>`.
    pub selector: String,
    /// The signing domain (`d=`), normally the From address's domain.
    pub domain: String,
    /// The RSA private key, PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`); empty: no signing.
    pub private_key_pem: SecretString,
}

impl Default for DkimSettings {
    fn default() -> Self {
        Self {
            selector: String::new(),
            domain: String::new(),
            private_key_pem: SecretString::from(""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_section_or_key_takes_its_default() {
        let empty: Settings = serde_json::from_str("{}").unwrap();
        assert_eq!(format!("{empty:?}"), format!("{:?}", Settings::default()));
        let partial: Settings =
            serde_json::from_str(r#"{"smtp": {"port": 2525}, "mp_digest": {"check_seconds": 5}}"#)
                .unwrap();
        assert_eq!(partial.smtp.port, 2525);
        assert_eq!(partial.smtp.host, "127.0.0.1");
        assert_eq!(partial.smtp.pool_size, 16);
        assert_eq!(partial.mp_digest.check_seconds, 5);
        assert_eq!(partial.mp_digest.period_hours, 168);
        assert_eq!(partial.sender.retry_max_ms, 1_800_000);
        assert_eq!(partial.write_to_mp.hold_after_per_day, 50);
        assert_eq!(partial.policy.unsolicited_per_recipient_per_day, 5);
        assert_eq!(partial.retention.email_body_days, 30);
    }

    #[test]
    fn the_retention_keys_are_known_to_the_check_for_misspelt_ones() {
        let known = valued_platform::settings::known_keys::<Settings>();
        for key in [
            "email_body_days",
            "inbox_days",
            "held_letter_days",
            "unconfirmed_letter_days",
            "check_seconds",
        ] {
            assert!(
                known.contains(&format!("retention.{key}")),
                "{key}: {known:?}"
            );
        }
    }
}
