//! The public vote's emails: a voter's receipt for each counted vote (`voter.vote_counted.v1`),
//! the results for a voter who asked to hear (`voter.results_released.v1`), and a finalist's news
//! that voting opened (`finalist.vote_opened.v1`) and that the results are out
//! (`finalist.results_released.v1`). A finalist's emails go to the finalist alone (the nomination
//! service sends them only for finalists still listed publicly).

use anyhow::Context;
use serde_json::json;
use valued_proto::events::v1::{
    FinalistResultsReleased, FinalistVoteOpened, RecognisedNominee, VoterResultsReleased,
    VoterVoteCounted,
};

use valued_platform::uk_time;

use super::{Email, Links, Notice};
use crate::templates::{FINALIST_RESULTS, FINALIST_VOTE_OPENED, VOTE_COUNTED, VOTE_RESULTS};

impl Notice for VoterVoteCounted {
    fn emails(self, _links: &Links) -> anyhow::Result<Vec<Email>> {
        anyhow::ensure!(!self.receipt.trim().is_empty(), "the event has no receipt");
        let context = json!({
            "campaign_name": self.campaign_name,
            "ballot_title": self.ballot_title,
            "receipt": self.receipt,
            "cast_at": uk_time::when_of(self.cast_at.as_ref()),
        });
        Ok(vec![Email::new(VOTE_COUNTED, &self.email, context)])
    }
}

impl Notice for VoterResultsReleased {
    fn emails(self, _links: &Links) -> anyhow::Result<Vec<Email>> {
        let ballots: Vec<_> = self
            .ballots
            .iter()
            .map(|b| {
                json!({
                    "title": b.title,
                    "winners": b.winner_names.join(" and "),
                    "joint": b.winner_names.len() > 1,
                    "total_votes": b.total_votes,
                })
            })
            .collect();
        let context = json!({
            "campaign_name": self.campaign_name,
            "ballots": ballots,
        });
        Ok(vec![Email::new(VOTE_RESULTS, &self.email, context)])
    }
}

impl Notice for FinalistVoteOpened {
    fn emails(self, _links: &Links) -> anyhow::Result<Vec<Email>> {
        let more = json!({
            "closes_at": uk_time::when_of(self.closes_at.as_ref()),
            "results_at": uk_time::when_of(self.results_at.as_ref()),
        });
        to_finalist(FINALIST_VOTE_OPENED, self.finalist, more)
    }
}

impl Notice for FinalistResultsReleased {
    fn emails(self, _links: &Links) -> anyhow::Result<Vec<Email>> {
        let more = json!({
            "winners": self.winner_names.join(" and "),
            "joint": self.winner_names.len() > 1,
        });
        to_finalist(FINALIST_RESULTS, self.finalist, more)
    }
}

/// One email to the finalist (never their nominators), about them and `more`.
fn to_finalist(
    template: &'static str,
    finalist: Option<RecognisedNominee>,
    more: serde_json::Value,
) -> anyhow::Result<Vec<Email>> {
    let finalist = finalist.context("the event names no finalist")?;
    let mut context = json!({
        "campaign_name": finalist.campaign_name,
        "category_name": finalist.category_name,
        "trust_name": finalist.trust_name,
        "nominee_name": finalist.nominee_name,
    });
    if let (Some(fields), serde_json::Value::Object(more)) = (context.as_object_mut(), more) {
        fields.extend(more);
    }
    Ok(vec![Email::new(template, &finalist.nominee_email, context)])
}
