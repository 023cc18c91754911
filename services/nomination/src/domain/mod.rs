//! The nomination domain: what a well-formed nomination is.

mod campaign;
mod consent;
mod nomination;
mod ods_code;
mod postcode;
mod record_id;
mod staff;
mod status;
mod story;

pub use campaign::{Scope, WindowError, Windows, eligible};
pub use consent::Consent;
pub use nomination::{NewNomination, NominationRequest, NomineeIdentity};
pub use ods_code::OdsCode;
pub use postcode::Postcode;
pub use record_id::RecordId;
pub use staff::{Band, Relationship, StaffGroup};
pub use status::{Decision, Status};
pub use story::StoryText;
pub use valued_platform::link_token::{hash_token, new_link_token};
