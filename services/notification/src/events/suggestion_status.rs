//! `suggestion.status_changed.v1` → the named suggester is told what became of their suggestion,
//! with the trust's public reason and a link to the trust's board. An event naming no address (the
//! suggestion box publishes none for anonymous suggestions) sends nothing.

use serde_json::json;
use valued_platform::uk_time;
use valued_proto::events::v1::SuggestionStatusChanged;

use super::{Email, Links, Notice};
use crate::templates::SUGGESTION_STATUS;

impl Notice for SuggestionStatusChanged {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        if self.suggester_email.trim().is_empty() {
            return Ok(Vec::new());
        }
        let context = json!({
            "suggester_name": self.suggester_name,
            "text": self.text,
            "status": self.status,
            "status_label": self.status_label,
            "public_reason": self.public_reason,
            "changed_at": uk_time::when_of(self.changed_at.as_ref()),
            "board_url": links.to("suggestions", &self.trust_code)?,
        });
        Ok(vec![Email::new(
            SUGGESTION_STATUS,
            &self.suggester_email,
            context,
        )])
    }
}
