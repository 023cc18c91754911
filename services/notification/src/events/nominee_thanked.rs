//! `nominee.thanked.v1` → the nominee is thanked privately and asked, through a link, which of their
//! details may be shared. At their work address the link is their consent link, bound to that
//! address. When no work address was given the email goes to their manager (the trust's contact),
//! worded to be passed on, with a claim link instead: there the nominee gives an address of their
//! own, so that whoever passes the thank-you on cannot answer for them.

use serde_json::json;
use valued_proto::events::v1::NomineeThanked;

use super::{Email, Links, Notice};
use crate::policy::unsolicited::Origin;
use crate::templates::NOMINEE_THANKS;

impl Notice for NomineeThanked {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        let mut context = json!({
            "campaign_name": self.campaign_name,
            "trust_name": self.trust_name,
            "nominee_name": self.nominee_name,
            "via_manager": self.via_manager,
            "nomination_count": self.nomination_count.max(1),
        });
        let link = if self.via_manager {
            ("claim_url", links.to("claim", &self.claim_token)?)
        } else {
            ("consent_url", links.to("consent", &self.consent_token)?)
        };
        if let Some(fields) = context.as_object_mut() {
            fields.insert(link.0.into(), link.1.into());
        }
        let mut email = Email::new(NOMINEE_THANKS, &self.recipient_email, context);
        // Through their manager: the trust's own contact, not an address anyone typed.
        if self.via_manager {
            email.origin = Origin::TrustContact;
        }
        Ok(vec![email])
    }
}
