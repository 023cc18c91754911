//! Everything about MPs: the House of Commons directory ([`directory`]), workplace postcode → 2024
//! constituency ([`postcodes`]), the periodic digest of the finalists and winners who agreed to
//! their MP being told ([`digest`]), and "Email your MP", supporters' own letters and each MP's
//! weekly count of them ([`write_to_mp`]).
//!
//! Nothing reaches an MP without the nominee's `share_with_mp` consent, and an MP without a usable
//! parliament.uk address is flagged `needs_check` and never emailed: their constituents wait,
//! counted and logged, until a person fixes the directory.

pub mod digest;
pub mod directory;
pub mod entity;
pub mod postcodes;
mod template;
pub mod write_to_mp;

use serde::Deserialize;

pub use digest::{DigestJob, DigestReport, MpEmail, sent_to_mps};
pub use directory::{ImportError, ImportSummary, import};
pub use entity::digest_item::Model as DigestItem;
pub use entity::mp::Model as Mp;
pub use postcodes::{ConstituencyCode, LookupError, PostcodeLookup};
pub use template::MP_DIGEST;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PostcodesSettings {
    /// A postcodes.io-compatible API: `GET {base_url}/postcodes/{postcode}`.
    pub base_url: String,
    /// How long one lookup may take before it counts as failed (and is retried later).
    pub timeout_ms: u64,
}

impl Default for PostcodesSettings {
    fn default() -> Self {
        Self {
            base_url: "https://api.postcodes.io".into(),
            timeout_ms: 5_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MpDigestSettings {
    /// Each MP gets at most one digest per period (periods are counted from the Unix epoch, so a
    /// week runs Thursday 00:00 UTC to Thursday). A period's constituents go out once it has ended.
    pub period_hours: u64,
    /// How often the job looks for work (one indexed count when there is none).
    pub check_seconds: u64,
}

impl Default for MpDigestSettings {
    fn default() -> Self {
        Self {
            period_hours: 168,
            check_seconds: 60,
        }
    }
}
