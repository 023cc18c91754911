//! The survey domain: what a survey, its questions and a response are, how invitation codes look,
//! and how results are reported without exposing anyone.

pub mod answers;
pub mod bands;
pub mod codes;
pub mod definition;
pub mod flags;
pub mod results;
mod staff_group;

pub use staff_group::StaffGroup;

use valued_platform::domain::FieldError;

/// A survey id as typed: INVALID_ARGUMENT (field `survey_id`) unless it is a UUID.
pub fn parse_survey_id(value: &str) -> Result<uuid::Uuid, FieldError> {
    uuid::Uuid::parse_str(value.trim())
        .map_err(|_| FieldError::new("survey_id", "Enter a valid survey id"))
}
