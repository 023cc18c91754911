//! The suggestion box ("you said, we did"): staff post a suggestion to their trust, named or
//! anonymously; a trust admin approves it for the trust's public board (or rejects it); anyone may
//! support a suggestion on the board, once per email address; the trust's admins say what became
//! of it with a status and a public reason, and a named suggester is emailed
//! (`suggestion.status_changed.v1`). Every admin action is audited (`suggestion_audit`).
//!
//! Which trusts exist is the nomination service's to say (it imports them from the ODS file and
//! lists them with each campaign): the gateway offers those, and this service keeps a suggestion
//! under the trust's ODS code as given. A code nobody looks after only ever reaches its own
//! moderation queue, which only platform admins (and a future trust admin of that code) see.
//!
//! Who may moderate: the trust's own admins, and platform admins. Region admins are not yet
//! included: this service does not hold which region a trust is in.

pub mod domain;
pub mod entities;
pub mod erasure;
mod grpc;
pub mod queries;
pub mod retention;

pub use grpc::{FeedbackApi, PUBLIC_RPCS};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The supporter-key secret used when none is configured. Fine on a laptop; production must set
/// `VALUED__SURVEY_FEEDBACK__SUGGESTIONS__SUPPORTER_KEY_SECRET`.
pub const DEV_ONLY_SUPPORTER_KEY_SECRET: &str = "dev-only-supporter-key-change-me";

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SuggestionSettings {
    /// The HMAC key under which supporters' addresses are kept (see [`domain::SupporterKey`]).
    /// Changing it makes every earlier supporter look new.
    pub supporter_key_secret: SecretString,
    /// How many suggestions and supports one client address and one email address may make.
    pub rate_limits: valued_platform::limits::RateLimits,
    pub retention: retention::SuggestionRetention,
}

impl Default for SuggestionSettings {
    fn default() -> Self {
        Self {
            supporter_key_secret: SecretString::from(DEV_ONLY_SUPPORTER_KEY_SECRET),
            rate_limits: valued_platform::limits::RateLimits {
                per_client_per_hour: 60,
                per_address_per_day: 20,
            },
            retention: retention::SuggestionRetention::default(),
        }
    }
}

impl SuggestionSettings {
    pub fn uses_development_key(&self) -> bool {
        self.supporter_key_secret.expose_secret() == DEV_ONLY_SUPPORTER_KEY_SECRET
    }
}

/// Runs the retention job until shutdown.
pub fn retain(
    db: sea_orm::DatabaseConnection,
    retention: retention::SuggestionRetention,
    shutdown: valued_platform::Shutdown,
) -> tokio::task::JoinHandle<()> {
    valued_platform::periodic::every(
        "suggestion retention",
        std::time::Duration::from_secs(retention.check_seconds.max(1)),
        shutdown,
        move || {
            let db = db.clone();
            async move {
                let purged = retention::purge(&db, retention, chrono::Utc::now()).await?;
                if purged != retention::Purged::default() {
                    tracing::info!(?purged, "suggestion retention");
                }
                Ok(())
            }
        },
    )
}
