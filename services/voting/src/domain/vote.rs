//! A vote as cast: which ballot, which choice, and the voter's email (which only ever becomes a
//! [`VoterKey`](super::VoterKey)).

use uuid::Uuid;
use valued_platform::domain::{EmailAddress, FieldError, FieldErrors, is_blank, single_line, tidy};

use super::NewBallot;

#[derive(Debug, Clone, Default)]
pub struct VoteRequest {
    pub ballot_id: String,
    pub choice_id: String,
    pub voter_email: String,
    /// A voter pass from a verification; when given, the email is not read.
    pub voter_pass: String,
}

/// Who casts a vote: a verified voter's pass (a campaign's public vote takes only these), or an
/// address as typed (a ballot made by hand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Voter {
    Pass(String),
    Email(EmailAddress),
}

impl std::fmt::Display for Voter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pass(_) => f.write_str("a voter pass"),
            Self::Email(email) => email.fmt(f),
        }
    }
}

/// A well-formed vote. Whether the ballot exists and the choice is on it is checked against the
/// database when it is stored.
#[derive(Debug, Clone)]
pub struct NewVote {
    pub ballot_id: Uuid,
    pub choice_id: String,
    pub voter: Voter,
}

impl NewVote {
    pub fn parse(request: &VoteRequest) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let ballot_id = errors.check(parse_ballot_id(&request.ballot_id));
        let choice_id = errors.check(parse_choice_id(&request.choice_id));
        let pass = request.voter_pass.trim();
        let voter = if pass.is_empty() {
            errors
                .check(EmailAddress::parse("voter_email", &request.voter_email))
                .map(Voter::Email)
        } else if pass.len() <= 128 && pass.chars().all(|c| c.is_ascii_alphanumeric()) {
            Some(Voter::Pass(pass.to_owned()))
        } else {
            errors.push(FieldError::new(
                "voter_pass",
                "Your voting session is not valid: verify your email address again",
            ));
            None
        };
        errors.into_result()?;
        match (ballot_id, choice_id, voter) {
            (Some(ballot_id), Some(choice_id), Some(voter)) => Ok(Self {
                ballot_id,
                choice_id,
                voter,
            }),
            _ => Err(vec![FieldError::new("form", "The form could not be read")]),
        }
    }
}

/// A choice id is read as a ballot's choice ids were when it was created, so that one typed the
/// same way names the same choice, and nothing that could not be a choice id (control characters,
/// an id longer than any) reaches the database.
fn parse_choice_id(value: &str) -> Result<String, FieldError> {
    if is_blank(&tidy(value)) {
        return Err(FieldError::new("choice_id", "Select a choice"));
    }
    single_line(
        "choice_id",
        "a choice",
        value,
        NewBallot::CHOICE_ID_MAX_CHARS,
    )
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
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

    use super::*;

    #[test]
    fn parses_a_vote_and_reports_every_bad_field() {
        let ballot_id = Uuid::now_v7();
        let vote = NewVote::parse(&VoteRequest {
            ballot_id: ballot_id.to_string(),
            choice_id: " sam ".into(),
            voter_email: " Jo@NHS.net ".into(),
            ..VoteRequest::default()
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
            ..VoteRequest::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["ballot_id", "choice_id", "voter_email"]);
    }

    #[test]
    fn a_choice_id_is_read_as_the_ballot_read_it() {
        let vote = |choice_id: &str| {
            NewVote::parse(&VoteRequest {
                ballot_id: Uuid::now_v7().to_string(),
                choice_id: choice_id.into(),
                voter_email: "jo@nhs.net".into(),
                ..VoteRequest::default()
            })
        };
        assert_eq!(vote("\u{202E}sam\u{200B}").unwrap().choice_id, "sam");
        for bad in ["sam\0", "sam\nsam", &"s".repeat(65), "\u{2066}\u{2069}"] {
            let errors = vote(bad).unwrap_err();
            assert!(hostile::readable(&errors[0], "choice_id"), "{errors:?}");
        }
    }

    proptest! {
        #[test]
        fn votes_are_clean_or_refused_field_by_field(
            ballot_id in prop_oneof![hostile::TEXT, Just(Uuid::now_v7().to_string())],
            choice_id in prop_oneof![hostile::TEXT, hostile::LONG_TEXT],
            voter_email in prop_oneof![hostile::TEXT, Just("jo@nhs.net".to_owned())],
        ) {
            let request = VoteRequest { ballot_id, choice_id, voter_email, voter_pass: String::new() };
            match NewVote::parse(&request) {
                Ok(vote) => {
                    prop_assert_eq!(Some(vote.ballot_id), request.ballot_id.trim().parse().ok());
                    let max = NewBallot::CHOICE_ID_MAX_CHARS;
                    prop_assert!(hostile::clean_line(&vote.choice_id, max));
                    let again = NewVote::parse(&VoteRequest {
                        ballot_id: vote.ballot_id.to_string(),
                        choice_id: vote.choice_id.clone(),
                        voter_email: vote.voter.to_string(),
                        voter_pass: String::new(),
                    });
                    prop_assert_eq!(format!("{again:?}"), format!("{:?}", Ok::<_, ()>(vote)));
                }
                Err(errors) => {
                    let fields = ["ballot_id", "choice_id", "voter_email"];
                    prop_assert!(hostile::all_readable(&errors, &fields), "{errors:?}");
                }
            }
        }
    }
}
