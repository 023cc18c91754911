//! The survey domain: what a survey and a response are, and how responses are reported without
//! exposing anyone.

mod response;
mod staff_group;
mod summary;
mod survey;

pub use response::{NewResponse, ResponseRequest, Score, parse_survey_id};
pub use staff_group::StaffGroup;
pub use summary::{GroupCount, GroupSummary, summarise};
pub use survey::{NewSurvey, SurveyRequest};
