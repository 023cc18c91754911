//! `finalist.announced.v1` and `winner.announced.v1` → the news to the nominee and to every
//! colleague who nominated them, each address once.

use std::collections::HashSet;

use anyhow::Context;
use serde_json::json;
use valued_proto::events::v1::{FinalistAnnounced, RecognisedNominee, WinnerAnnounced};

use super::{Email, Links, Notice};
use crate::templates::{FINALIST_NOTICE, WINNER_NOTICE};

impl Notice for FinalistAnnounced {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        let finalist = self.finalist.context("the event names no finalist")?;
        let routes = links.learning_routes(&self.learning_routes);
        Ok(announce(FINALIST_NOTICE, finalist, &routes))
    }
}

impl Notice for WinnerAnnounced {
    fn emails(self, _links: &Links) -> anyhow::Result<Vec<Email>> {
        let winner = self.winner.context("the event names no winner")?;
        Ok(announce(WINNER_NOTICE, winner, &[]))
    }
}

/// One email to the nominee, then one to each nominator whose address has not had one. The nominee
/// comes first, so an address that is both (e.g. the trust contact) gets the nominee's version,
/// which alone lists the learning `routes` that fit them.
fn announce(
    template: &'static str,
    nominee: RecognisedNominee,
    routes: &[serde_json::Value],
) -> Vec<Email> {
    let context = |to_nominee: bool| {
        json!({
            "to_nominee": to_nominee,
            "campaign_name": nominee.campaign_name,
            "category_name": nominee.category_name,
            "trust_name": nominee.trust_name,
            "nominee_name": nominee.nominee_name,
            "nominee_job_title": nominee.nominee_job_title,
            "learning_routes": if to_nominee { routes } else { &[] },
        })
    };
    let recipients = std::iter::once((&nominee.nominee_email, true))
        .chain(nominee.nominator_emails.iter().map(|email| (email, false)));
    let mut seen = HashSet::new();
    recipients
        .filter(|(address, _)| seen.insert(address.trim().to_lowercase()))
        .map(|(address, to_nominee)| Email::new(template, address, context(to_nominee)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nominee_then_each_nominator_once() {
        let nominee = RecognisedNominee {
            nominee_email: "sam@trust.example.org".into(),
            nominator_emails: vec![
                "alex@example.org".into(),
                " Alex@Example.org ".into(),
                "SAM@trust.example.org".into(),
                "jo@example.org".into(),
            ],
            ..Default::default()
        };
        let emails = announce(FINALIST_NOTICE, nominee, &[]);
        let sent: Vec<(&str, bool)> = emails
            .iter()
            .map(|e| (e.recipient.as_str(), e.context["to_nominee"] == true))
            .collect();
        assert_eq!(
            sent,
            [
                ("sam@trust.example.org", true),
                ("alex@example.org", false),
                ("jo@example.org", false)
            ]
        );
    }

    #[test]
    fn only_the_finalist_is_sent_the_routes_that_fit_them_through_their_counting_links() {
        let announced = FinalistAnnounced {
            finalist: Some(RecognisedNominee {
                nominee_email: "sam@trust.example.org".into(),
                nominator_emails: vec!["alex@example.org".into()],
                nominee_name: "Sam Patel".into(),
                ..Default::default()
            }),
            learning_routes: vec![valued_proto::events::v1::LearningRouteLink {
                title: "Apprenticeships in the NHS".into(),
                description: "Earn while you learn".into(),
                campaign_slug: "health-heroes-2026".into(),
                route_id: "0193".into(),
                trust_code: String::new(),
            }],
            ..Default::default()
        };
        let emails = announced
            .emails(&Links::new("https://valued.example.org"))
            .unwrap();
        let templates = crate::templates::Templates::new().unwrap();
        let link = "https://valued.example.org/campaigns/health-heroes-2026/routes/0193";
        let to_sam = templates
            .render(emails[0].template, &emails[0].context)
            .unwrap();
        assert!(
            to_sam
                .text
                .contains("Apprenticeships in the NHS: Earn while you learn")
        );
        assert!(to_sam.text.contains(link), "{}", to_sam.text);
        assert!(
            to_sam.html.contains("Apprenticeships in the NHS</a>"),
            "{}",
            to_sam.html
        );
        let to_alex = templates
            .render(emails[1].template, &emails[1].context)
            .unwrap();
        assert!(
            !to_alex.text.contains("Apprenticeships"),
            "{}",
            to_alex.text
        );
        assert!(!to_alex.html.contains("Learning and career routes"));
    }
}
