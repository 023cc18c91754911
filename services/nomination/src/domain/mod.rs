//! The nomination domain: what a well-formed nomination is.

mod campaign;
mod consent;
pub mod insight;
mod new_campaign;
mod nomination;
mod nominator_limit;
mod ods_code;
mod postcode;
mod record_id;
mod staff;
mod status;
mod story;
mod trust_settings;

pub use campaign::{Scope, WindowError, Windows, eligible};
pub use consent::Consent;
pub use new_campaign::{
    CampaignRequest, CategoryRequest, NewCampaignSpec, NewCategorySpec, slug_of, time_of,
};
pub use nomination::{NewNomination, NominationRequest, NomineeIdentity};
pub use nominator_limit::NominationsPerNominator;
pub use ods_code::OdsCode;
pub use postcode::Postcode;
pub use record_id::RecordId;
pub use staff::{Band, Relationship, StaffGroup};
pub use status::{Decision, Status};
pub use story::StoryText;
pub use trust_settings::{NewSite, SiteRequest, TrustSettingsRequest, TrustSettingsSpec};
pub use valued_platform::link_token::{hash_token, new_link_token};
