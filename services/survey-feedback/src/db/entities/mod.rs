pub mod survey;
pub mod survey_free_text;
pub mod survey_invitation;
pub mod survey_pending_response;
pub mod survey_response;
pub mod survey_results;
pub mod survey_used_code;
