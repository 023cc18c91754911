//! Where a nomination is in its life: it counts once its nominator confirms their email, then a
//! moderator approves it (or rejects it, or asks the nominator for more).

use valued_platform::domain::{FieldError, multi_line};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for the nominator to follow the confirmation link.
    Unconfirmed,
    /// Confirmed; in the trust's moderation queue.
    Pending,
    /// The moderator asked the nominator a question; still in the queue.
    MoreInfoRequested,
    Approved,
    Rejected,
}

impl Status {
    pub fn slug(self) -> &'static str {
        match self {
            Self::Unconfirmed => "unconfirmed",
            Self::Pending => "pending",
            Self::MoreInfoRequested => "more_info_requested",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    /// Statuses a moderator still has to decide.
    pub const AWAITING_DECISION: [Self; 2] = [Self::Pending, Self::MoreInfoRequested];
}

/// What a moderator decides about a nomination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject { reason: String },
    RequestInfo { question: String },
}

impl Decision {
    pub const REASON_MAX_CHARS: usize = 1000;

    pub fn parse(action: &str, reason: &str) -> Result<Self, FieldError> {
        let needs_reason =
            |label: &str| multi_line("reason", label, reason, Self::REASON_MAX_CHARS);
        match action.trim() {
            "approve" => Ok(Self::Approve),
            "reject" => Ok(Self::Reject {
                reason: needs_reason("the reason for rejecting")?,
            }),
            "request_info" => Ok(Self::RequestInfo {
                question: needs_reason("your question for the nominator")?,
            }),
            _ => Err(FieldError::new(
                "action",
                "Choose approve, reject or ask for more information",
            )),
        }
    }

    pub fn status(&self) -> Status {
        match self {
            Self::Approve => Status::Approved,
            Self::Reject { .. } => Status::Rejected,
            Self::RequestInfo { .. } => Status::MoreInfoRequested,
        }
    }

    pub fn action(&self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject { .. } => "reject",
            Self::RequestInfo { .. } => "request_info",
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Self::Approve => "",
            Self::Reject { reason } => reason,
            Self::RequestInfo { question } => question,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

    use super::*;

    #[test]
    fn rejecting_or_asking_needs_words_approving_does_not() {
        assert_eq!(Decision::parse("approve", "").unwrap(), Decision::Approve);
        assert_eq!(Decision::parse("reject", "  ").unwrap_err().field, "reason");
        assert_eq!(
            Decision::parse("request_info", "Which ward?")
                .unwrap()
                .status(),
            Status::MoreInfoRequested
        );
        assert_eq!(Decision::parse("delete", "").unwrap_err().field, "action");
    }

    #[test]
    fn reasons_are_tidied_and_refused_in_words() {
        assert_eq!(
            Decision::parse(" reject ", "\u{202E}Not\r\nNHS staff\u{200B} ")
                .unwrap()
                .reason(),
            "Not\nNHS staff"
        );
        assert_eq!(
            Decision::parse("reject", &"x".repeat(1001))
                .unwrap_err()
                .message,
            "Reason for rejecting must be 1000 characters or fewer"
        );
        assert_eq!(
            Decision::parse("request_info", "Which\0ward?")
                .unwrap_err()
                .message,
            "Your question for the nominator contains characters we cannot accept"
        );
    }

    proptest! {
        #[test]
        fn decisions_are_clean_or_refused_with_a_reason(
            action in prop_oneof![
                Just("approve".to_owned()),
                Just("reject".to_owned()),
                Just("request_info".to_owned()),
                hostile::TEXT,
            ],
            reason in prop_oneof![hostile::TEXT, hostile::LONG_TEXT],
        ) {
            match Decision::parse(&action, &reason) {
                Ok(Decision::Approve) => prop_assert_eq!(action.trim(), "approve"),
                Ok(decision) => {
                    prop_assert!(hostile::clean(decision.reason(), Decision::REASON_MAX_CHARS));
                    let again = Decision::parse(decision.action(), decision.reason());
                    prop_assert_eq!(again, Ok(decision.clone()));
                }
                Err(error) => {
                    let errors = [error];
                    prop_assert!(hostile::all_readable(&errors, &["action", "reason"]), "{errors:?}");
                }
            }
        }
    }
}
