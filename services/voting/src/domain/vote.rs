//! A vote as cast: which ballot, which choice, and the voter's email (which only ever becomes a
//! [`VoterKey`](super::VoterKey)).

use uuid::Uuid;
use valued_platform::domain::{EmailAddress, FieldError, FieldErrors};

#[derive(Debug, Clone, Default)]
pub struct VoteRequest {
    pub ballot_id: String,
    pub choice_id: String,
    pub voter_email: String,
}

/// A well-formed vote. Whether the ballot exists and the choice is on it is checked against the
/// database when it is stored.
#[derive(Debug, Clone)]
pub struct NewVote {
    pub ballot_id: Uuid,
    pub choice_id: String,
    pub voter: EmailAddress,
}

impl NewVote {
    pub fn parse(request: &VoteRequest) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let ballot_id = errors.check(parse_ballot_id(&request.ballot_id));
        let choice_id = request.choice_id.trim();
        if choice_id.is_empty() {
            errors.push(FieldError::new("choice_id", "Select a choice"));
        }
        let voter = errors.check(EmailAddress::parse("voter_email", &request.voter_email));
        errors.into_result()?;
        match (ballot_id, voter) {
            (Some(ballot_id), Some(voter)) => Ok(Self {
                ballot_id,
                choice_id: choice_id.to_owned(),
                voter,
            }),
            _ => Err(vec![FieldError::new("form", "The form could not be read")]),
        }
    }
}

/// A ballot id is a UUID; anything else cannot name a ballot.
pub fn parse_ballot_id(value: &str) -> Result<Uuid, FieldError> {
    value
        .trim()
        .parse()
        .map_err(|_| FieldError::new("ballot_id", "Choose a ballot"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_vote_and_reports_every_bad_field() {
        let ballot_id = Uuid::now_v7();
        let vote = NewVote::parse(&VoteRequest {
            ballot_id: ballot_id.to_string(),
            choice_id: " sam ".into(),
            voter_email: " Jo@NHS.net ".into(),
        })
        .unwrap();
        assert_eq!(
            (vote.ballot_id, vote.choice_id.as_str()),
            (ballot_id, "sam")
        );

        let errors = NewVote::parse(&VoteRequest {
            ballot_id: "ballot-1".into(),
            choice_id: "  ".into(),
            voter_email: "jo".into(),
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["ballot_id", "choice_id", "voter_email"]);
    }
}
