//! `nominee.claimed.v1` → a nominee thanked through their manager gave an address of their own: it
//! is sent the consent link, which only someone holding that mailbox can follow. The address was
//! typed into a public page, so the email counts towards the unsolicited cap.

use serde_json::json;
use valued_proto::events::v1::NomineeClaimed;

use super::{Email, Links, Notice};
use crate::templates::NOMINEE_CONSENT_LINK;

impl Notice for NomineeClaimed {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        let context = json!({
            "campaign_name": self.campaign_name,
            "trust_name": self.trust_name,
            "nominee_name": self.nominee_name,
            "consent_url": links.to("consent", &self.consent_token)?,
        });
        Ok(vec![Email::new(
            NOMINEE_CONSENT_LINK,
            &self.recipient_email,
            context,
        )])
    }
}
