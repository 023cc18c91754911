pub mod survey;
pub mod survey_response;
