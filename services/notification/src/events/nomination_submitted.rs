//! `nomination.submitted.v1` → a confirmation to the nominator and a "new nomination to review" to
//! the trust's admin contact.

use serde_json::json;
use valued_proto::events::v1::NominationSubmitted;

use super::{Email, Links, Notice};
use crate::templates::{NOMINATION_RECEIVED, NOMINATION_TO_REVIEW};

impl Notice for NominationSubmitted {
    fn emails(self, _links: &Links) -> anyhow::Result<Vec<Email>> {
        let context = json!({
            "nomination_id": self.nomination_id,
            "campaign_name": self.campaign_name,
            "trust_name": self.trust_name,
            "category_name": self.category_name,
            "nominee_name": self.nominee_name,
            "nominee_job_title": self.nominee_job_title,
            "staff_group": self.staff_group,
            "nominator_name": self.nominator_name,
            "relationship": self.relationship,
            "story_excerpt": self.story_excerpt,
        });
        Ok(vec![
            Email::new(NOMINATION_RECEIVED, &self.nominator_email, context.clone()),
            Email::new(NOMINATION_TO_REVIEW, &self.trust_admin_email, context),
        ])
    }
}
