//! The nomination domain: what a well-formed nomination is.

mod nomination;
mod ods_code;
mod postcode;
mod staff;
mod story;

pub use nomination::{NewNomination, NominationRequest};
pub use ods_code::OdsCode;
pub use postcode::Postcode;
pub use staff::{Relationship, StaffGroup};
pub use story::StoryText;
