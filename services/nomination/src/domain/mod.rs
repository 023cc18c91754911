//! The nomination domain: what a well-formed nomination is.

mod campaign;
mod nomination;
mod ods_code;
mod postcode;
mod staff;
mod story;

pub use campaign::{Scope, WindowError, Windows, eligible};
pub use nomination::{NewNomination, NominationRequest};
pub use ods_code::OdsCode;
pub use postcode::Postcode;
pub use staff::{Band, Relationship, StaffGroup};
pub use story::StoryText;
