//! `survey.invitation_requested.v1` → a member of staff gets their single-use link to answer a
//! survey anonymously. The address is kept only as long as any delivery (see README's retention).

use serde_json::json;
use valued_platform::uk_time;
use valued_proto::events::v1::SurveyInvitationRequested;

use super::{Email, Links, Notice};
use crate::templates::SURVEY_INVITATION;

impl Notice for SurveyInvitationRequested {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        let closes_at = uk_time::when_of(self.closes_at.as_ref());
        let context = json!({
            "survey_title": self.survey_title,
            "survey_url": links.to("surveys/invitation", &self.code)?,
            "code": self.code,
            "closes_at": closes_at,
        });
        Ok(vec![Email::new(SURVEY_INVITATION, &self.email, context)])
    }
}
