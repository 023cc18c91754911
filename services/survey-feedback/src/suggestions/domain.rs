//! What a suggestion, its suggester, a supporter and an admin's decision are, parsed from what was
//! typed: every bad field is named.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use uuid::Uuid;
use valued_platform::domain::{EmailAddress, FieldError, FieldErrors, PersonName, multi_line};

/// A trust's ODS code: three letters or digits, kept upper-case (`rxx` is `RXX`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustCode(String);

impl TrustCode {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let code = value.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err(FieldError::new(field, "Choose a trust"));
        }
        if code.len() != 3 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(FieldError::new(
                field,
                "Trust code must be 3 letters or numbers, like RXX",
            ));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What became of a suggestion, as the board shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Received,
    UnderConsideration,
    Done,
    NotThisTime,
}

impl Status {
    pub const ALL: [Self; 4] = [
        Self::Received,
        Self::UnderConsideration,
        Self::Done,
        Self::NotThisTime,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::UnderConsideration => "under_consideration",
            Self::Done => "done",
            Self::NotThisTime => "not_this_time",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Received => "Received",
            Self::UnderConsideration => "Under consideration",
            Self::Done => "We did it",
            Self::NotThisTime => "Not this time",
        }
    }

    /// Whether nothing more is expected to happen to it.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::NotThisTime)
    }

    pub fn parse(field: &str, slug: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|s| s.slug() == slug.trim())
            .ok_or_else(|| FieldError::new(field, "Choose a status"))
    }
}

/// Whether a suggestion may be on the board: every suggestion waits for a trust admin first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moderation {
    Waiting,
    Approved,
    Rejected,
}

impl Moderation {
    pub fn slug(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    pub fn from_stored(slug: &str) -> Self {
        match slug {
            "approved" => Self::Approved,
            "rejected" => Self::Rejected,
            _ => Self::Waiting,
        }
    }
}

/// The suggester of a named suggestion: both a name and an address, or (anonymous) neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggester {
    pub name: PersonName,
    pub email: EmailAddress,
}

#[derive(Debug, Clone, Default)]
pub struct SuggestionRequest {
    pub trust_code: String,
    pub text: String,
    pub name: String,
    pub email: String,
}

/// A suggestion as posted.
#[derive(Debug, Clone)]
pub struct NewSuggestion {
    pub trust_code: TrustCode,
    pub text: String,
    /// None for an anonymous suggestion.
    pub suggester: Option<Suggester>,
}

impl NewSuggestion {
    pub const TEXT_MAX_CHARS: usize = 1000;

    pub fn parse(request: &SuggestionRequest) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let trust_code = errors.check(TrustCode::parse("trust_code", &request.trust_code));
        let text = errors.check(multi_line(
            "text",
            "your suggestion",
            &request.text,
            Self::TEXT_MAX_CHARS,
        ));
        let anonymous = request.name.trim().is_empty() && request.email.trim().is_empty();
        let suggester = if anonymous {
            None
        } else {
            // A name without an address (or the reverse) is a half-named suggestion: nobody could
            // be told what became of it, so both are asked for.
            let name = errors.check(PersonName::parse("name", "your name", &request.name));
            let email = errors.check(EmailAddress::parse("email", &request.email));
            name.zip(email)
                .map(|(name, email)| Suggester { name, email })
        };
        errors.into_result()?;
        match (trust_code, text) {
            (Some(trust_code), Some(text)) => Ok(Self {
                trust_code,
                text,
                suggester,
            }),
            _ => Err(vec![FieldError::new("form", "The form could not be read")]),
        }
    }
}

/// A reason the board shows beside a status.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub status: Status,
    pub public_reason: String,
}

impl StatusChange {
    pub const REASON_MAX_CHARS: usize = 1000;

    pub fn parse(status: &str, public_reason: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let status = errors.check(Status::parse("status", status));
        let public_reason = errors.check(multi_line(
            "public_reason",
            "a reason to show on the board",
            public_reason,
            Self::REASON_MAX_CHARS,
        ));
        errors.into_result()?;
        match (status, public_reason) {
            (Some(status), Some(public_reason)) => Ok(Self {
                status,
                public_reason,
            }),
            _ => Err(vec![FieldError::new("form", "The form could not be read")]),
        }
    }
}

pub fn parse_suggestion_id(field: &str, value: &str) -> Result<Uuid, FieldError> {
    Uuid::parse_str(value.trim()).map_err(|_| FieldError::new(field, "Choose a suggestion"))
}

/// Who supported a suggestion, as stored: the hex HMAC-SHA256, under the service's secret, of the
/// suggestion's id and the mailbox behind the supporter's address ([`EmailAddress::identity`]).
///
/// Supporting needs no sign-in, so a person is known by the email address they type, as the public
/// vote knows its voters: `Sam@`, `sam+x@` and (at Gmail) `s.am@` are one mailbox, and the
/// database's primary key (suggestion, key) counts it once however many requests race. The address
/// itself is never stored, and without the secret nobody can test a guessed address against the
/// keys. The suggestion's id is in the digest so that one person's supports of different
/// suggestions cannot be linked to each other. Not a verified address (a support is a nudge, not a
/// vote): the per-client and per-address rate limits bound how many addresses one person can type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupporterKey(String);

impl SupporterKey {
    pub fn derive(secret: &SecretString, suggestion_id: Uuid, email: &EmailAddress) -> Self {
        Self(hmac_hex(
            secret,
            &[
                b"valued.suggestion.support.",
                suggestion_id.as_bytes(),
                email.identity().as_bytes(),
            ],
        ))
    }

    /// The key the address `email` (already normalised by the erasure request) would have.
    pub fn derive_from_typed(
        secret: &SecretString,
        suggestion_id: Uuid,
        email: &str,
    ) -> Option<Self> {
        EmailAddress::parse("email", email)
            .ok()
            .map(|email| Self::derive(secret, suggestion_id, &email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[expect(clippy::expect_used, reason = "HMAC accepts keys of any length")]
fn hmac_hex(secret: &SecretString, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

    use super::*;

    fn request(name: &str, email: &str) -> SuggestionRequest {
        SuggestionRequest {
            trust_code: " rxx ".into(),
            text: "A water fountain\r\nby the porters' lodge".into(),
            name: name.into(),
            email: email.into(),
        }
    }

    #[test]
    fn anonymous_suggestions_name_nobody_and_named_ones_need_both() {
        let anonymous = NewSuggestion::parse(&request(" ", "")).unwrap();
        assert_eq!(anonymous.trust_code.as_str(), "RXX");
        assert_eq!(anonymous.text, "A water fountain\nby the porters' lodge");
        assert!(anonymous.suggester.is_none());

        let named = NewSuggestion::parse(&request("Sam Patel", "Sam@Example.ORG")).unwrap();
        let suggester = named.suggester.unwrap();
        assert_eq!(suggester.name.as_str(), "Sam Patel");
        assert_eq!(suggester.email.as_str(), "Sam@example.org");

        let errors = NewSuggestion::parse(&request("Sam Patel", "")).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "email");
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors = NewSuggestion::parse(&SuggestionRequest {
            trust_code: "R-X".into(),
            text: "x".repeat(NewSuggestion::TEXT_MAX_CHARS + 1),
            name: String::new(),
            email: "not an address".into(),
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["trust_code", "text", "name", "email"]);
        assert_eq!(
            errors[1].message,
            "Your suggestion must be 1000 characters or fewer"
        );
    }

    #[test]
    fn a_status_needs_a_known_value_and_a_reason() {
        let change = StatusChange::parse("done", " We fitted one in May ").unwrap();
        assert_eq!(change.status, Status::Done);
        assert_eq!(change.public_reason, "We fitted one in May");
        let errors = StatusChange::parse("maybe", "").unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["status", "public_reason"]);
    }

    #[test]
    fn one_mailbox_is_one_supporter_per_suggestion_and_unlinkable_across_them() {
        let secret = SecretString::from("test-secret");
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let sam = EmailAddress::parse("email", "Sam+board@Example.org").unwrap();
        let same = EmailAddress::parse("email", "sam@example.org").unwrap();
        assert_eq!(
            SupporterKey::derive(&secret, a, &sam),
            SupporterKey::derive(&secret, a, &same)
        );
        assert_ne!(
            SupporterKey::derive(&secret, a, &sam),
            SupporterKey::derive(&secret, b, &sam)
        );
        let other = SecretString::from("another-secret");
        assert_ne!(
            SupporterKey::derive(&secret, a, &sam),
            SupporterKey::derive(&other, a, &sam)
        );
    }

    proptest! {
        #[test]
        fn suggestions_are_clean_or_refused_field_by_field(
            text in prop_oneof![hostile::TEXT, hostile::LONG_TEXT],
            name in hostile::TEXT,
        ) {
            let request = SuggestionRequest {
                trust_code: "RXX".into(),
                text,
                name,
                email: "sam@example.org".into(),
            };
            match NewSuggestion::parse(&request) {
                Ok(suggestion) => {
                    prop_assert!(hostile::clean(&suggestion.text, NewSuggestion::TEXT_MAX_CHARS));
                    let suggester = suggestion.suggester.unwrap();
                    prop_assert!(hostile::clean_line(suggester.name.as_str(), PersonName::MAX_CHARS));
                }
                Err(errors) => {
                    prop_assert!(hostile::all_readable(&errors, &["text", "name"]), "{errors:?}");
                }
            }
        }
    }
}
