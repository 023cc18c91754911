//! Domain types more than one service needs. Parse, don't validate: once a value has one of these
//! types it is known to be well formed.

use std::fmt;

/// A message for one input field, shown beside it in a form and carried over gRPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Collects every field error of a form before failing, so the user sees them all at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records its error and returns `None`.
    pub fn check<T>(&mut self, parsed: Result<T, FieldError>) -> Option<T> {
        parsed.map_err(|e| self.0.push(e)).ok()
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    pub fn into_result(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// Text on one line: trimmed, not empty, at most `max_chars` characters, and free of control
/// characters (CR and LF above all, which could otherwise end up in an email header).
pub fn single_line(
    field: &str,
    label: &str,
    value: &str,
    max_chars: usize,
) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, format!("Enter {label}")));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!(
                "{} must be on one line, without special characters",
                capitalise(label)
            ),
        ));
    }
    if value.chars().count() > max_chars {
        return Err(FieldError::new(
            field,
            format!(
                "{} must be {max_chars} characters or fewer",
                capitalise(label)
            ),
        ));
    }
    Ok(value.to_owned())
}

fn capitalise(label: &str) -> String {
    let label = label
        .strip_prefix("the ")
        .or_else(|| label.strip_prefix("a "))
        .or_else(|| label.strip_prefix("an "))
        .unwrap_or(label);
    let mut chars = label.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Text as compared to recognise the same thing typed twice: lower case, letters and digits only,
/// single spaces (`"Sam  O'Brien"` and `"sam obrien"` match).
pub fn match_key(text: &str) -> String {
    let kept: String = text
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A person's name (nominee, nominator, voter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(field: &str, label: &str, value: &str) -> Result<Self, FieldError> {
        single_line(field, label, value, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as compared to recognise the same person: lower case, letters and digits only,
    /// single spaces (`"Sam  O'Brien"` and `"sam obrien"` match).
    pub fn match_key(&self) -> String {
        let kept: String = self
            .0
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || c.is_whitespace())
            .collect();
        kept.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address a message can be sent to: one line, `local@domain.tld`, at most 254 characters,
/// accepted by lettre's address parser. The domain is lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let invalid = || {
            FieldError::new(
                field,
                "Enter an email address in the correct format, like name@example.com",
            )
        };
        let value = value.trim();
        if value.is_empty() {
            return Err(FieldError::new(field, "Enter an email address"));
        }
        if value.len() > 254 || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid());
        }
        let (local, domain) = value.rsplit_once('@').ok_or_else(invalid)?;
        if local.is_empty()
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(invalid());
        }
        let normalised = format!("{local}@{}", domain.to_lowercase());
        normalised
            .parse::<lettre::Address>()
            .map_err(|_| invalid())?;
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used to recognise the same person twice: lower-cased whole.
    pub fn normalised(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for good in ["sam.patel@nhs.net", "a+b@Example.ORG", " jo@trust.nhs.uk "] {
            assert!(EmailAddress::parse("email", good).is_ok(), "{good}");
        }
        assert_eq!(
            EmailAddress::parse("e", "A@Example.ORG").unwrap().as_str(),
            "A@example.org"
        );
    }

    #[test]
    fn rejects_malformed_and_injected_addresses() {
        for bad in [
            "",
            "no-at-sign",
            "@nhs.net",
            "sam@",
            "sam@localhost",
            "sam@nhs.net\r\nBcc: x@y.z",
            "two words@nhs.net",
            "sam@.net",
        ] {
            let error = EmailAddress::parse("email", bad).unwrap_err();
            assert_eq!(error.field, "email");
        }
    }

    #[test]
    fn names_match_whatever_their_case_spacing_and_punctuation() {
        let key = |name: &str| PersonName::parse("n", "a name", name).unwrap().match_key();
        assert_eq!(key("Sam  O'Brien"), key("sam obrien"));
        assert_eq!(key("Zoë Ó Súilleabháin"), "zoë ó súilleabháin");
        assert_ne!(key("Sam Patel"), key("Sam Patil"));
    }

    #[test]
    fn names_refuse_line_breaks_and_length() {
        assert_eq!(
            PersonName::parse("n", "the nominee's name", "  Sam Patel ")
                .unwrap()
                .as_str(),
            "Sam Patel"
        );
        assert_eq!(
            PersonName::parse("n", "the nominee's name", "")
                .unwrap_err()
                .message,
            "Enter the nominee's name"
        );
        assert!(PersonName::parse("n", "a name", "Sam\r\nBcc: evil@example.com").is_err());
        assert!(PersonName::parse("n", "a name", &"x".repeat(101)).is_err());
    }

    proptest! {
        #[test]
        fn a_line_break_inside_is_refused(input in "[a-z@. ]{0,19}[a-z][\r\n]+[a-z@. ]{0,10}[a-z]") {
            prop_assert!(PersonName::parse("n", "a name", &input).is_err());
            prop_assert!(EmailAddress::parse("e", &input).is_err());
        }

        #[test]
        fn nothing_parsed_contains_a_control_character(input in "\\PC{0,10}[\r\n\t]?\\PC{0,10}") {
            if let Ok(name) = PersonName::parse("n", "a name", &input) {
                prop_assert!(!name.as_str().chars().any(char::is_control));
            }
            if let Ok(address) = EmailAddress::parse("e", &input) {
                prop_assert!(!address.as_str().chars().any(char::is_control));
            }
        }

        #[test]
        fn parsed_addresses_have_one_at_and_a_dotted_domain(input in "\\PC{0,40}") {
            if let Ok(address) = EmailAddress::parse("e", &input) {
                let (_, domain) = address.as_str().rsplit_once('@').unwrap();
                prop_assert!(domain.contains('.'));
                prop_assert!(!address.as_str().chars().any(char::is_control));
            }
        }
    }
}
