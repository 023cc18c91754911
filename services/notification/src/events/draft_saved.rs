//! `nomination.draft_saved.v1` → the nominator gets a link to finish their nomination later.

use serde_json::json;
use valued_platform::uk_time;
use valued_proto::events::v1::DraftSaved;

use super::{Email, Links, Notice};
use crate::templates::DRAFT_RESUME;

impl Notice for DraftSaved {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        let context = json!({
            "campaign_name": self.campaign_name,
            "resume_url": links.to("drafts", &self.resume_token)?,
            "expires_on": uk_time::of(self.expires_at.as_ref()).map(uk_time::day),
        });
        Ok(vec![Email::new(
            DRAFT_RESUME,
            &self.nominator_email,
            context,
        )])
    }
}
