//! `finalist.announced.v1` and `winner.announced.v1` → the news to the nominee and to every
//! colleague who nominated them, each address once.

use std::collections::HashSet;

use anyhow::Context;
use serde_json::json;
use valued_proto::events::v1::{FinalistAnnounced, RecognisedNominee, WinnerAnnounced};

use super::{Email, Links, Notice};
use crate::templates::{FINALIST_NOTICE, WINNER_NOTICE};

impl Notice for FinalistAnnounced {
    fn emails(self, _links: &Links) -> anyhow::Result<Vec<Email>> {
        let finalist = self.finalist.context("the event names no finalist")?;
        Ok(announce(FINALIST_NOTICE, finalist))
    }
}

impl Notice for WinnerAnnounced {
    fn emails(self, _links: &Links) -> anyhow::Result<Vec<Email>> {
        let winner = self.winner.context("the event names no winner")?;
        Ok(announce(WINNER_NOTICE, winner))
    }
}

/// One email to the nominee, then one to each nominator whose address has not had one. The nominee
/// comes first, so an address that is both (e.g. the trust contact) gets the nominee's version.
fn announce(template: &'static str, nominee: RecognisedNominee) -> Vec<Email> {
    let context = |to_nominee: bool| {
        json!({
            "to_nominee": to_nominee,
            "campaign_name": nominee.campaign_name,
            "category_name": nominee.category_name,
            "trust_name": nominee.trust_name,
            "nominee_name": nominee.nominee_name,
            "nominee_job_title": nominee.nominee_job_title,
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
        let emails = announce(FINALIST_NOTICE, nominee);
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
}
