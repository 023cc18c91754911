//! When a ballot takes votes and when its results may be seen. A campaign's public vote takes votes
//! only between its opening and closing times, and shows its results to nobody, admins included,
//! before its results time: until then the count could steer the vote. A ballot made by hand
//! (not from a campaign) with no times set takes votes and shows its results at any time.

use chrono::{DateTime, Utc};
use valued_platform::uk_time;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timetable {
    /// Whether this is a campaign's public vote (whose unset times mean "not scheduled yet").
    pub campaign: bool,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub results_at: Option<DateTime<Utc>>,
}

/// Where a ballot stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Not open yet (or not scheduled).
    Waiting,
    Open,
    /// Closed, results not yet out.
    Closed,
    /// The results may be shown.
    Results,
}

impl Stage {
    pub fn slug(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Results => "results",
        }
    }
}

impl Timetable {
    pub fn stage_at(&self, now: DateTime<Utc>) -> Stage {
        if self.shows_results_at(now).is_ok() && self.results_at.is_some() {
            return Stage::Results;
        }
        match self.accepts_votes_at(now) {
            Ok(()) => Stage::Open,
            Err(_) if self.closes_at.is_some_and(|closes| now >= closes) => Stage::Closed,
            Err(_) => Stage::Waiting,
        }
    }

    /// Whether a vote cast at `now` counts; else why not, in words for the voter.
    pub fn accepts_votes_at(&self, now: DateTime<Utc>) -> Result<(), String> {
        match (self.opens_at, self.closes_at) {
            (Some(opens), _) if now < opens => {
                Err(format!("Voting opens on {}", uk_time::when(opens)))
            }
            (_, Some(closes)) if now >= closes => {
                Err(format!("Voting closed on {}", uk_time::when(closes)))
            }
            (Some(_), Some(_)) => Ok(()),
            _ if self.campaign => Err("Voting has not opened yet".into()),
            _ => Ok(()),
        }
    }

    /// Whether the results may be shown at `now`, to anyone; else why not.
    pub fn shows_results_at(&self, now: DateTime<Utc>) -> Result<(), String> {
        match self.results_at {
            Some(results) if now < results => Err(format!(
                "The results will be published on {}",
                uk_time::when(results)
            )),
            Some(_) => Ok(()),
            None if self.campaign => Err("The results have not been published yet".into()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn campaign(now: DateTime<Utc>) -> Timetable {
        Timetable {
            campaign: true,
            opens_at: Some(now + Duration::days(1)),
            closes_at: Some(now + Duration::days(8)),
            results_at: Some(now + Duration::days(10)),
        }
    }

    #[test]
    fn a_campaign_vote_takes_votes_only_while_open_and_shows_results_only_after_their_time() {
        let now = Utc::now();
        let vote = campaign(now);
        assert!(
            vote.accepts_votes_at(now)
                .unwrap_err()
                .starts_with("Voting opens on")
        );
        assert_eq!(vote.stage_at(now), Stage::Waiting);
        let open = now + Duration::days(2);
        assert_eq!(vote.accepts_votes_at(open), Ok(()));
        assert_eq!(vote.stage_at(open), Stage::Open);
        assert!(vote.shows_results_at(open).is_err());
        let closed = now + Duration::days(9);
        assert!(
            vote.accepts_votes_at(closed)
                .unwrap_err()
                .starts_with("Voting closed on")
        );
        assert_eq!(vote.stage_at(closed), Stage::Closed);
        assert!(
            vote.shows_results_at(closed)
                .unwrap_err()
                .starts_with("The results will be published on")
        );
        let out = now + Duration::days(10);
        assert_eq!(vote.shows_results_at(out), Ok(()));
        assert_eq!(vote.stage_at(out), Stage::Results);
    }

    #[test]
    fn refusals_name_their_moments_in_uk_time() {
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        let vote = Timetable {
            campaign: true,
            opens_at: Some(at("2027-06-01T09:00:00Z")),
            closes_at: Some(at("2027-06-08T17:00:00Z")),
            results_at: Some(at("2027-12-01T09:00:00Z")),
        };
        assert_eq!(
            vote.accepts_votes_at(at("2027-05-01T00:00:00Z")),
            Err("Voting opens on 1 June 2027 at 10:00 (UK time)".into())
        );
        assert_eq!(
            vote.accepts_votes_at(at("2027-06-09T00:00:00Z")),
            Err("Voting closed on 8 June 2027 at 18:00 (UK time)".into())
        );
        assert_eq!(
            vote.shows_results_at(at("2027-06-09T00:00:00Z")),
            Err("The results will be published on 1 December 2027 at 09:00 (UK time)".into())
        );
    }

    #[test]
    fn an_unscheduled_campaign_vote_takes_nothing_and_shows_nothing() {
        let vote = Timetable {
            campaign: true,
            opens_at: None,
            closes_at: None,
            results_at: None,
        };
        let now = Utc::now();
        assert_eq!(
            vote.accepts_votes_at(now),
            Err("Voting has not opened yet".into())
        );
        assert!(vote.shows_results_at(now).is_err());
        assert_eq!(vote.stage_at(now), Stage::Waiting);
    }

    #[test]
    fn a_ballot_made_by_hand_without_times_is_always_open() {
        let vote = Timetable {
            campaign: false,
            opens_at: None,
            closes_at: None,
            results_at: None,
        };
        let now = Utc::now();
        assert_eq!(vote.accepts_votes_at(now), Ok(()));
        assert_eq!(vote.shows_results_at(now), Ok(()));
        assert_eq!(vote.stage_at(now), Stage::Open);
    }
}
