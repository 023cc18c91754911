//! MPs who hear about their constituents: the House of Commons directory ([`directory`]), workplace
//! postcode → 2024 constituency ([`postcodes`]), and the periodic digest of the finalists and
//! winners who agreed to their MP being told ([`digest`]).
//!
//! Nothing reaches an MP without the nominee's `share_with_mp` consent, and an MP without a usable
//! parliament.uk address is flagged `needs_check` and never emailed: their constituents wait,
//! counted and logged, until a person fixes the directory.

pub mod digest;
pub mod directory;
pub mod entity;
pub mod postcodes;
mod template;

use serde::Deserialize;

pub use digest::{DigestJob, DigestReport, MpEmail, sent_to_mps};
pub use directory::{ImportError, ImportSummary, import};
pub use entity::digest_item::Model as DigestItem;
pub use entity::mp::Model as Mp;
pub use postcodes::{ConstituencyCode, LookupError, PostcodeLookup};
pub use template::MP_DIGEST;

#[derive(Debug, Clone, Deserialize)]
pub struct PostcodesSettings {
    /// A postcodes.io-compatible API: `GET {base_url}/postcodes/{postcode}`.
    #[serde(default = "default_postcodes_base_url")]
    pub base_url: String,
    /// How long one lookup may take before it counts as failed (and is retried later).
    #[serde(default = "default_postcodes_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_postcodes_base_url() -> String {
    "https://api.postcodes.io".into()
}

fn default_postcodes_timeout_ms() -> u64 {
    5_000
}

impl Default for PostcodesSettings {
    fn default() -> Self {
        Self {
            base_url: default_postcodes_base_url(),
            timeout_ms: default_postcodes_timeout_ms(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct MpDigestSettings {
    /// Each MP gets at most one digest per period (periods are counted from the Unix epoch, so a
    /// week runs Thursday 00:00 UTC to Thursday). A period's constituents go out once it has ended.
    #[serde(default = "default_period_hours")]
    pub period_hours: u64,
    /// How often the job looks for work (one indexed count when there is none).
    #[serde(default = "default_check_seconds")]
    pub check_seconds: u64,
}

fn default_period_hours() -> u64 {
    168
}

fn default_check_seconds() -> u64 {
    60
}

impl Default for MpDigestSettings {
    fn default() -> Self {
        Self {
            period_hours: default_period_hours(),
            check_seconds: default_check_seconds(),
        }
    }
}
