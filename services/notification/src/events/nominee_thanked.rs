//! `nominee.thanked.v1` → the nominee is thanked privately and asked, through a link, which of their
//! details may be shared. At their work address the link is their consent link, bound to that
//! address. When no work address was given the email goes to their manager (the trust's contact),
//! worded to be passed on, with a claim link instead: there the nominee gives an address of their
//! own, so that whoever passes the thank-you on cannot answer for them. Either way it ends with the
//! campaign's learning and career routes that fit the nomination, when it has any.

use serde_json::json;
use valued_proto::events::v1::NomineeThanked;

use super::{Email, Links, Notice};
use crate::policy::unsolicited::Origin;
use crate::templates::NOMINEE_THANKS;

impl Notice for NomineeThanked {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        // The campaign's learning and career routes that fit, each through its counting link.
        let routes = links.learning_routes(&self.learning_routes);
        let mut context = json!({
            "learning_routes": routes,
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use valued_proto::events::v1::LearningRouteLink;

    use super::*;
    use crate::templates::Templates;

    #[test]
    fn the_routes_that_fit_end_the_thank_you_each_through_its_counting_link() {
        let thanked = |learning_routes| NomineeThanked {
            campaign_name: "Health Heroes 2026".into(),
            trust_name: "RJ1".into(),
            nominee_name: "Sam Patel".into(),
            recipient_email: "sam@example.org".into(),
            consent_token: "beef".into(),
            nomination_count: 1,
            learning_routes,
            ..Default::default()
        };
        let render = |event: NomineeThanked| {
            let email = event
                .emails(&Links::new("https://valued.example.org"))
                .unwrap()
                .remove(0);
            Templates::new()
                .unwrap()
                .render(email.template, &email.context)
                .unwrap()
        };
        let email = render(thanked(vec![
            LearningRouteLink {
                title: "Apprenticeships in the NHS".into(),
                description: "Earn while you learn.".into(),
                campaign_slug: "health-heroes-2026".into(),
                route_id: "0193".into(),
                trust_code: String::new(),
            },
            LearningRouteLink {
                title: "Learning at RJ1".into(),
                description: String::new(),
                campaign_slug: String::new(),
                route_id: "0194".into(),
                trust_code: "RJ1".into(),
            },
        ]));
        let link = "https://valued.example.org/campaigns/health-heroes-2026/routes/0193";
        assert!(
            email.text.contains("Learning and career routes"),
            "{}",
            email.text
        );
        assert!(
            email.text.contains(&format!(
                "- Apprenticeships in the NHS: Earn while you learn.\n  {link}"
            )),
            "{}",
            email.text
        );
        assert!(
            email
                .text
                .contains("- Learning at RJ1\n  https://valued.example.org/trusts/RJ1/routes/0194"),
            "the trust's route after the campaign's, through its own counting link: {}",
            email.text
        );
        assert!(
            email.html.contains("Apprenticeships in the NHS</a>"),
            "{}",
            email.html
        );
        assert!(
            email
                .html
                .contains("campaigns&#x2f;health-heroes-2026&#x2f;routes&#x2f;0193"),
            "{}",
            email.html
        );
        let without = render(thanked(Vec::new()));
        assert!(!without.text.contains("Learning and career routes"));
        assert!(!without.html.contains("Learning and career routes"));
    }
}
