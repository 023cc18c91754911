//! `nominee.thanked.v1` → the nominee is thanked privately and asked, through a link, which of their
//! details may be shared. When no work address was given the email goes to their manager (the
//! trust's contact), worded to be passed on.

use serde_json::json;
use valued_proto::events::v1::NomineeThanked;

use super::{Email, Links, Notice};
use crate::policy::unsolicited::Origin;
use crate::templates::NOMINEE_THANKS;

impl Notice for NomineeThanked {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        let context = json!({
            "campaign_name": self.campaign_name,
            "trust_name": self.trust_name,
            "nominee_name": self.nominee_name,
            "via_manager": self.via_manager,
            "nomination_count": self.nomination_count.max(1),
            "consent_url": links.to("consent", &self.consent_token)?,
        });
        let mut email = Email::new(NOMINEE_THANKS, &self.recipient_email, context);
        // Through their manager: the trust's own contact, not an address anyone typed.
        if self.via_manager {
            email.origin = Origin::TrustContact;
        }
        Ok(vec![email])
    }
}
