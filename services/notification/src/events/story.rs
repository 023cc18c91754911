//! `story.draft_saved.v1` → the teller gets a link to finish their story later;
//! `story.submitted.v1` → the teller gets a link to withdraw their story. Neither event carries a
//! phone number, so no email can.

use serde_json::json;
use valued_platform::uk_time;
use valued_proto::events::v1::{StoryDraftSaved, StorySubmitted};

use super::{Email, Links, Notice};
use crate::templates::{STORY_RESUME, STORY_SENT};

impl Notice for StoryDraftSaved {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        let context = json!({
            "campaign_name": self.campaign_name,
            "resume_url": links.to("stories/drafts", &self.resume_token)?,
            "expires_on": uk_time::of(self.expires_at.as_ref()).map(uk_time::day),
        });
        Ok(vec![Email::new(STORY_RESUME, &self.email, context)])
    }
}

impl Notice for StorySubmitted {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        let context = json!({
            "campaign_name": self.campaign_name,
            "withdraw_url": links.to("stories/withdraw", &self.withdraw_token)?,
        });
        Ok(vec![Email::new(STORY_SENT, &self.email, context)])
    }
}
