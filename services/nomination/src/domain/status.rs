//! Where a nomination is in its life: it counts once its nominator confirms their email, then a
//! moderator approves it (or rejects it, or asks the nominator for more).

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

    pub fn parse(action: &str, reason: &str) -> Result<Self, valued_platform::domain::FieldError> {
        use valued_platform::domain::FieldError;
        let reason = reason.trim();
        let needs_reason = |label: &str| {
            if reason.is_empty() {
                Err(FieldError::new("reason", format!("Enter {label}")))
            } else if reason.chars().count() > Self::REASON_MAX_CHARS {
                Err(FieldError::new(
                    "reason",
                    format!("{label} must be 1000 characters or fewer"),
                ))
            } else {
                Ok(reason.to_owned())
            }
        };
        match action {
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
}
