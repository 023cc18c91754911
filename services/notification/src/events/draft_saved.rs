//! `nomination.draft_saved.v1` → the nominator gets a link to finish their nomination later.

use serde_json::json;
use valued_proto::events::v1::DraftSaved;

use super::{Email, Links, Notice};
use crate::templates::DRAFT_RESUME;

impl Notice for DraftSaved {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        let context = json!({
            "campaign_name": self.campaign_name,
            "resume_url": links.to("drafts", &self.resume_token)?,
            "expires_on": self.expires_at.as_ref().and_then(uk_date),
        });
        Ok(vec![Email::new(
            DRAFT_RESUME,
            &self.nominator_email,
            context,
        )])
    }
}

/// The day as UK readers write it, e.g. "22 November 2026" (the UTC date).
fn uk_date(at: &prost_types::Timestamp) -> Option<String> {
    let at = chrono::DateTime::from_timestamp(at.seconds, 0)?;
    Some(at.format("%-d %B %Y").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_day_month_year() {
        let at = prost_types::Timestamp {
            seconds: 1_795_354_200, // 2026-11-22T13:30:00Z
            nanos: 0,
        };
        assert_eq!(uk_date(&at).as_deref(), Some("22 November 2026"));
        let at = prost_types::Timestamp {
            seconds: 1_772_323_200, // 2026-03-01T00:00:00Z
            nanos: 0,
        };
        assert_eq!(uk_date(&at).as_deref(), Some("1 March 2026"));
    }
}
