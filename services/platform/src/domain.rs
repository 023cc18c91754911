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

/// Text on one line: trimmed, not empty, at most `max_chars` characters, free of control
/// characters (CR and LF above all, which could otherwise end up in an email header) and of the
/// line and paragraph separators, with [hidden controls](strip_hidden_controls) removed first.
pub fn single_line(
    field: &str,
    label: &str,
    value: &str,
    max_chars: usize,
) -> Result<String, FieldError> {
    typed_text(
        (field, label),
        value,
        max_chars,
        allowed_on_one_line,
        "must be on one line, without special characters",
    )
}

/// Text that may run over several lines (a reason, a question): like [`single_line`], but line
/// breaks (CRLF and CR become LF) and tabs are kept.
pub fn multi_line(
    field: &str,
    label: &str,
    value: &str,
    max_chars: usize,
) -> Result<String, FieldError> {
    typed_text(
        (field, label),
        value,
        max_chars,
        allowed_in_multi_line,
        "contains characters we cannot accept",
    )
}

/// [Tidied](tidy) text that shows something, has only `allowed` characters, and at most
/// `max_chars` of them; else an error for the field, in words about its label.
fn typed_text(
    (field, label): (&str, &str),
    value: &str,
    max_chars: usize,
    allowed: fn(char) -> bool,
    refusal: &str,
) -> Result<String, FieldError> {
    let value = tidy(value);
    if is_blank(&value) {
        return Err(FieldError::new(field, format!("Enter {label}")));
    }
    if !value.chars().all(allowed) {
        return Err(FieldError::new(
            field,
            format!("{} {refusal}", capitalise(label)),
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
    Ok(value)
}

/// What free text typed by a person is stored as: [hidden controls](strip_hidden_controls)
/// removed, in Unicode normalisation form C (an accented letter typed as one character or as a
/// letter and a combining accent is stored the same way), line breaks as LF, and trimmed. Parsers
/// check what is left.
pub fn tidy(value: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    strip_hidden_controls(value)
        .nfc()
        .collect::<String>()
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .trim()
        .to_owned()
}

/// Whether a character may stay in multi-line text: anything but control characters, except line
/// feed and tab.
pub fn allowed_in_multi_line(c: char) -> bool {
    !c.is_control() || c == '\n' || c == '\t'
}

/// Whether a character may stay in one line of text: anything but control characters and the
/// line and paragraph separators.
pub fn allowed_on_one_line(c: char) -> bool {
    !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}')
}

/// Whether text shows nothing: empty, or only [characters drawn as nothing](draws_nothing).
pub fn is_blank(text: &str) -> bool {
    text.chars().all(draws_nothing)
}

/// Whitespace, and the letters drawn as nothing that would make a name look blank: the Hangul
/// fillers and the blank braille pattern.
pub fn draws_nothing(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{115F}' | '\u{1160}' | '\u{2800}' | '\u{3164}' | '\u{FFA0}'
        )
}

/// Explicit bidirectional formatting characters: the embeddings and overrides (U+202A–U+202E), the
/// isolates (U+2066–U+2069) and the marks (U+200E, U+200F, U+061C).
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// The zero-width joiner and non-joiner.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

/// Invisible characters no name or message needs: bidi controls, the zero-width space, word joiner
/// and no-break space (U+FEFF, also the byte-order mark), the soft hyphen, the invisible maths
/// operators (U+2061–U+2064), the deprecated format controls (U+206A–U+206F) and the interlinear
/// annotation controls (U+FFF9–U+FFFB).
fn is_hidden(c: char) -> bool {
    is_bidi_control(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{200B}'
                | '\u{2060}'..='\u{2064}'
                | '\u{206A}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// Whether a character is one [`strip_hidden_controls`] may remove.
pub fn is_hidden_control(c: char) -> bool {
    is_hidden(c) || is_joiner(c)
}

/// Removes the invisible characters that make text read differently from what it is, from names
/// and any other text shown to people other than its author.
///
/// - Bidi controls ([`is_bidi_control`]) go: an override or isolate reorders what follows it
///   (`"\u{202E}lanoitaN"` shows as `"National"`) and can make one name pass for another.
///   Arabic and Hebrew text does not need them: the Unicode bidirectional algorithm orders it
///   from its letters alone, and a page can isolate what people typed (`<bdi>`, `dir="auto"`)
///   itself. Losing an explicit mark costs at most the side a full stop falls on in mixed-script
///   text.
/// - Other characters drawn as nothing ([`is_hidden`]) go too: they would let `"Sam Patel"` and a
///   different string that looks the same both exist.
/// - The zero-width joiner and non-joiner (U+200D, U+200C) stay where scripts need them: between
///   two characters that are neither ASCII nor whitespace, as in Persian (`"می‌خواهم"`), Indic
///   conjuncts and emoji sequences (`"👩‍⚕️"`). Beside ASCII, at either end, or doubled, they can
///   only hide something, and go.
///
/// Emoji variation selectors and tag characters (which spell the flags of England, Scotland and
/// Wales) are kept. Applying it twice changes nothing more.
pub fn strip_hidden_controls(text: &str) -> String {
    let joins = |c: &char| !c.is_ascii() && !c.is_whitespace() && !is_joiner(*c);
    let mut kept = String::with_capacity(text.len());
    let mut chars = text.chars().filter(|&c| !is_hidden(c)).peekable();
    let mut previous = None;
    while let Some(c) = chars.next() {
        if is_joiner(c)
            && !(previous.as_ref().is_some_and(joins) && chars.peek().is_some_and(joins))
        {
            continue;
        }
        kept.push(c);
        previous = Some(c);
    }
    kept
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

/// Text as compared to recognise the same thing typed twice: in compatibility form (NFKC: composed
/// accents, full-width and ligature letters as their plain forms), lower case, letters and digits
/// only, single spaces (`"Sam  O'Brien"` and `"sam obrien"` match, as do `"Zoë"` typed either way).
pub fn match_key(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let kept: String = text
        .nfkc()
        .collect::<String>()
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
        match_key(&self.0)
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address a message can be sent to: one line, `local@domain.tld`, at most 254 bytes, free
/// of [hidden controls](is_hidden_control) and [blanks](draws_nothing), accepted by lettre's
/// address parser. The domain is lower-cased.
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
        if is_blank(&strip_hidden_controls(value)) {
            return Err(FieldError::new(field, "Enter an email address"));
        }
        if value.len() > 254
            || value
                .chars()
                .any(|c| c.is_control() || draws_nothing(c) || is_hidden_control(c))
        {
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
        if normalised.len() > 254 {
            return Err(invalid());
        }
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

    /// The mailbox behind the address, for counting what is done toward one person: lower-cased,
    /// without a `+tag` (which nearly every provider delivers to the untagged mailbox), and, at
    /// Gmail, without dots in the local part and with `googlemail.com` as `gmail.com` (Gmail ignores
    /// both). `Victim@`, `victim+1@` and `v.ictim@gmail.com` are one person. Never an address to
    /// send to.
    pub fn identity(&self) -> String {
        let lowered = self.normalised();
        let (local, domain) = lowered.rsplit_once('@').unwrap_or((&lowered, ""));
        let local = local.split_once('+').map_or(local, |(mailbox, _)| mailbox);
        let local = if local.is_empty() { "+" } else { local };
        match domain {
            "gmail.com" | "googlemail.com" => format!("{}@gmail.com", local.replace('.', "")),
            _ => format!("{local}@{domain}"),
        }
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Hostile text for the property tests of every parser, as [proptest] regular expressions (a
/// `&str` is a strategy): runs of printable text of any script, ASCII, control characters, bidi
/// and other hidden controls, combining marks, CJK, Arabic and Hebrew letters, emoji with their
/// joiners, skin tones and tag characters, blank letters and odd spaces, and letters whose lower
/// case is longer than they are.
///
/// [proptest]: https://docs.rs/proptest
/// A work-email domain such as `nhs.net` or `gstt.nhs.uk`: lower-case ASCII (an international
/// domain in its `xn--` form), at least two labels of letters, digits and inner hyphens, at most
/// 253 characters. Typed as `@nhs.net` or `*.nhs.net`, it is `nhs.net`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkDomain(String);

impl WorkDomain {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let trimmed = value.trim();
        let bare = trimmed
            .strip_prefix("*.")
            .or_else(|| trimmed.strip_prefix('@'))
            .unwrap_or(trimmed);
        let domain = bare.strip_suffix('.').unwrap_or(bare).to_ascii_lowercase();
        if domain.is_empty() {
            return Err(FieldError::new(field, "Enter a domain, like nhs.net"));
        }
        if !domain.is_ascii() {
            return Err(FieldError::new(
                field,
                "Enter the domain in its ASCII form (xn--…), like nhs.net",
            ));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |label: &&str| {
            (1..=63).contains(&label.len())
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        let top_ok = labels
            .last()
            .is_some_and(|top| top.chars().any(|c| c.is_ascii_lowercase()));
        if domain.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) || !top_ok {
            return Err(FieldError::new(
                field,
                "Enter a domain in the correct format, like nhs.net or yourtrust.nhs.uk",
            ));
        }
        Ok(Self(domain))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A domain as stored (already parsed once).
    pub fn from_stored(domain: &str) -> Self {
        Self(domain.to_owned())
    }
}

impl std::fmt::Display for WorkDomain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[doc(hidden)]
pub mod hostile {
    macro_rules! pieces {
        () => {
            concat!(
                r"(\PC{1,8}|[a-zA-Z0-9 .'@-]{1,8}",
                r"|[\x00-\x1F\x7F\x{85}\x{2028}\x{2029}]",
                r"|[\x{AD}\x{61C}\x{200B}-\x{200F}\x{202A}-\x{202E}]",
                r"|[\x{2060}-\x{2064}\x{2066}-\x{206F}\x{FEFF}]",
                r"|[\x{300}-\x{36F}]{1,3}|[\x{4E00}-\x{9FFF}\x{AC00}-\x{D7A3}]{1,4}",
                r"|[\x{5D0}-\x{5EA}\x{621}-\x{64A}\x{6CC}]{1,4}",
                r"|[\x{1F3F4}\x{1F3FB}-\x{1F3FF}\x{1F468}\x{1F469}\x{2695}\x{FE0F}]",
                r"|[\x{E0061}-\x{E007F}]|[\x{A0}\x{115F}\x{1160}\x{2800}\x{3000}\x{3164}\x{FFA0}]",
                r"|[\x{130}\x{DF}\x{FB03}\x{23A}])",
            )
        };
    }

    /// Up to 40 pieces: a few hundred characters.
    pub const TEXT: &str = concat!(pieces!(), "{0,40}");
    /// Hundreds of pieces: thousands of characters, longer than any field allows.
    pub const LONG_TEXT: &str = concat!(pieces!(), "{200,800}");

    use super::{
        FieldError, allowed_in_multi_line, allowed_on_one_line, is_blank, strip_hidden_controls,
    };

    /// Whether an error names `field` and says something a person can read: a sentence that starts
    /// with a capital letter, on one line, with no hidden controls.
    pub fn readable(error: &FieldError, field: &str) -> bool {
        error.field == field
            && error.message.starts_with(|c: char| c.is_uppercase())
            && error.message.chars().all(|c| !c.is_control())
            && strip_hidden_controls(&error.message) == error.message
    }

    /// Whether every error is [`readable`] and names one of `fields`.
    pub fn all_readable(errors: &[FieldError], fields: &[&str]) -> bool {
        errors
            .iter()
            .all(|error| fields.iter().any(|field| readable(error, field)))
    }

    /// Whether text keeps the promises of a parsed single line of at most `max_chars`
    /// characters: something to read, trimmed, no control characters or line separators, and
    /// nothing left to strip.
    pub fn clean_line(text: &str, max_chars: usize) -> bool {
        clean(text, max_chars) && text.chars().all(allowed_on_one_line)
    }

    /// Whether text keeps the promises of parsed multi-line text: as [`clean_line`], but with line
    /// feeds and tabs.
    pub fn clean(text: &str, max_chars: usize) -> bool {
        !is_blank(text)
            && text.trim() == text
            && text.chars().count() <= max_chars
            && text.chars().all(allowed_in_multi_line)
            && strip_hidden_controls(text) == text
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn domains_are_read_as_typed_in_any_common_way() {
        for typed in ["nhs.net", " NHS.net ", "@nhs.net", "*.nhs.net", "nhs.net."] {
            assert_eq!(WorkDomain::parse("d", typed).unwrap().as_str(), "nhs.net");
        }
        assert!(WorkDomain::parse("d", "xn--bcher-kva.example").is_ok());
        for bad in [
            "",
            "nhs",
            "nhs..net",
            "-nhs.net",
            "nhs-.net",
            "nhs.net/x",
            "10.0.0.1",
            "bücher.de",
            "a b.net",
            "sam@nhs.net",
        ] {
            assert!(WorkDomain::parse("d", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn one_mailbox_is_one_identity_however_it_is_typed() {
        let identity = |text: &str| EmailAddress::parse("e", text).unwrap().identity();
        assert_eq!(identity("Victim@Example.org"), "victim@example.org");
        assert_eq!(identity("victim+1@example.org"), "victim@example.org");
        assert_eq!(identity("v.ic.tim+x@GoogleMail.com"), "victim@gmail.com");
        // Dots count everywhere but Gmail.
        assert_eq!(identity("sam.patel@nhs.net"), "sam.patel@nhs.net");
        assert_ne!(identity("sam.patel@nhs.net"), identity("sampatel@nhs.net"));
        assert_eq!(identity("+tag@example.org"), "+@example.org");
    }

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
    fn accents_typed_as_one_character_or_two_are_stored_and_matched_alike() {
        let composed = "Zo\u{eb} Ren\u{e9}e";
        let decomposed = "Zoe\u{308} Rene\u{301}e";
        let name = |text: &str| PersonName::parse("n", "a name", text).unwrap();
        assert_eq!(name(decomposed).as_str(), composed);
        assert_eq!(name(decomposed).match_key(), name(composed).match_key());
        assert_eq!(match_key("\u{ff33}am \u{fb01}nn"), "sam finn");
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

    // Text that needs its joiners or tag characters, which must survive.
    const PERSIAN: &str = "می\u{200C}خواهم";
    const HEALTH_WORKER: &str = "👩\u{200D}⚕\u{FE0F}";
    const HINDI: &str = "क्\u{200D}ष";
    const WALES: &str = "🏴\u{E0067}\u{E0062}\u{E0077}\u{E006C}\u{E0073}\u{E007F}";

    #[test]
    fn bidi_overrides_isolates_and_marks_are_stripped_from_names() {
        let name = |input: &str| {
            PersonName::parse("n", "a name", input)
                .map(|name| name.as_str().to_owned())
                .map_err(|error| error.message)
        };
        assert_eq!(name("\u{202E}lanoitaN\u{202C}"), Ok("lanoitaN".into()));
        assert_eq!(
            name("\u{2067}Sam\u{2069} \u{200F}Patel\u{200E}\u{061C}"),
            Ok("Sam Patel".into())
        );
        assert_eq!(
            name("Sam\u{200B}\u{FEFF}\u{AD} Patel"),
            Ok("Sam Patel".into())
        );
        assert_eq!(name("Sam\u{200D}Patel\u{200C}"), Ok("SamPatel".into()));
        assert_eq!(name("\u{200B}\u{202E}\u{3164}"), Err("Enter a name".into()));
        assert_eq!(
            name("Sam\u{2028}Patel"),
            Err("Name must be on one line, without special characters".into())
        );
        // Hebrew and Arabic need no controls; joiners stay where scripts need them.
        for kept in [
            "שרה כהן",
            "فاطمة الزهراء",
            PERSIAN,
            HEALTH_WORKER,
            HINDI,
            WALES,
        ] {
            assert_eq!(name(kept), Ok(kept.into()), "{kept}");
        }
    }

    #[test]
    fn blank_nul_and_whitespace_only_input_is_asked_for_again() {
        for blank in ["", "   ", "\t\n", "\u{3000}\u{A0}", "\u{2028}", "\u{FEFF}"] {
            let error = PersonName::parse("n", "a name", blank).unwrap_err();
            assert_eq!(error.message, "Enter a name", "{blank:?}");
            let error = multi_line("r", "the reason", blank, 10).unwrap_err();
            assert_eq!(error.message, "Enter the reason", "{blank:?}");
            assert_eq!(
                EmailAddress::parse("e", blank).unwrap_err().message,
                "Enter an email address"
            );
        }
        assert!(PersonName::parse("n", "a name", "\0").is_err());
        assert!(PersonName::parse("n", "a name", "Sam\0Patel").is_err());
        assert!(multi_line("r", "the reason", "Sam\0Patel", 100).is_err());
        assert!(EmailAddress::parse("e", "sam\0@nhs.net").is_err());
    }

    #[test]
    fn multi_line_text_keeps_its_lines_in_one_form() {
        assert_eq!(
            multi_line("r", "the reason", " One\r\nTwo\rThree\n\tFour ", 100),
            Ok("One\nTwo\nThree\n\tFour".into())
        );
        assert_eq!(
            multi_line("r", "the reason", "too long", 3)
                .unwrap_err()
                .message,
            "Reason must be 3 characters or fewer"
        );
        assert_eq!(
            multi_line("r", "the reason", "bell\u{7}", 100)
                .unwrap_err()
                .message,
            "Reason contains characters we cannot accept"
        );
    }

    #[test]
    fn addresses_with_hidden_controls_are_refused() {
        for bad in [
            "sam\u{202E}ten.shn@x.org",
            "sam@nhs\u{200B}.net",
            "\u{FEFF}sam@nhs.net\u{200E}",
        ] {
            let error = EmailAddress::parse("email", bad).unwrap_err();
            assert!(hostile::readable(&error, "email"), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn hidden_controls_are_stripped_once_and_for_all(input in hostile::TEXT) {
            let stripped = strip_hidden_controls(&input);
            prop_assert!(!stripped.chars().any(is_bidi_control));
            prop_assert!(!stripped.chars().any(is_hidden));
            prop_assert_eq!(strip_hidden_controls(&stripped), stripped.clone());
            // Only hidden controls go, and what stays keeps its order.
            let mut rest = stripped.chars().peekable();
            for c in input.chars() {
                if rest.peek() == Some(&c) {
                    rest.next();
                } else {
                    prop_assert!(is_hidden_control(c), "{c:?} was removed");
                }
            }
            prop_assert_eq!(rest.next(), None);
        }

        #[test]
        fn single_lines_are_clean_or_refused_with_a_reason(
            input in prop_oneof![hostile::TEXT, hostile::LONG_TEXT],
            max in 1usize..300,
        ) {
            match single_line("title", "a title", &input, max) {
                Ok(line) => {
                    prop_assert!(hostile::clean_line(&line, max), "{line:?}");
                    prop_assert_eq!(single_line("title", "a title", &line, max), Ok(line.clone()));
                }
                Err(error) => prop_assert!(hostile::readable(&error, "title"), "{error:?}"),
            }
        }

        #[test]
        fn multi_line_text_is_clean_or_refused_with_a_reason(
            input in prop_oneof![hostile::TEXT, hostile::LONG_TEXT],
            max in 1usize..300,
        ) {
            match multi_line("reason", "the reason", &input, max) {
                Ok(text) => {
                    prop_assert!(hostile::clean(&text, max), "{text:?}");
                    prop_assert!(!text.contains('\r'));
                    let again = multi_line("reason", "the reason", &text, max);
                    prop_assert_eq!(again, Ok(text.clone()));
                }
                Err(error) => prop_assert!(hostile::readable(&error, "reason"), "{error:?}"),
            }
        }

        #[test]
        fn names_are_clean_or_refused_with_a_reason(
            input in prop_oneof![hostile::TEXT, hostile::LONG_TEXT],
        ) {
            match PersonName::parse("nominee_name", "their full name", &input) {
                Ok(name) => {
                    prop_assert!(hostile::clean_line(name.as_str(), PersonName::MAX_CHARS));
                    let again =
                        PersonName::parse("nominee_name", "their full name", &name.to_string());
                    prop_assert_eq!(again, Ok(name.clone()));
                    let key = name.match_key();
                    prop_assert_eq!(key.trim(), key.as_str());
                    prop_assert_eq!(match_key(&key), key);
                }
                Err(error) => prop_assert!(hostile::readable(&error, "nominee_name"), "{error:?}"),
            }
        }

        #[test]
        fn addresses_are_clean_or_refused_with_a_reason(
            input in prop_oneof![
                hostile::TEXT,
                hostile::LONG_TEXT,
                (hostile::TEXT, "[a-z]{1,10}", hostile::TEXT, "[a-zA-Z]{2,4}")
                    .prop_map(|(local, host, sub, tld)| format!("{local}@{host}{sub}.{tld}")),
                ("[a-zA-Z0-9.+]{1,10}", hostile::TEXT, "[a-zA-Z]{2,4}")
                    .prop_map(|(local, host, tld)| format!("{local}@{host}.{tld}")),
                "[ \t]{0,2}[a-zA-Z0-9.+]{1,10}@\\PC{1,10}\\.[a-zA-Z]{2,4}[ \t]{0,2}",
            ],
        ) {
            match EmailAddress::parse("email", &input) {
                Ok(address) => {
                    let text = address.as_str();
                    prop_assert!(text.len() <= 254);
                    let unseen = |c: char| c.is_control() || draws_nothing(c) || is_hidden_control(c);
                    prop_assert!(!text.chars().any(unseen));
                    let (local, domain) = text.rsplit_once('@').unwrap();
                    prop_assert!(!local.is_empty() && domain.contains('.'));
                    prop_assert_eq!(domain.to_lowercase(), domain);
                    let again = EmailAddress::parse("email", &address.to_string());
                    prop_assert_eq!(again, Ok(address.clone()));
                    let normalised = address.normalised();
                    prop_assert_eq!(normalised.to_lowercase(), normalised);
                }
                Err(error) => prop_assert!(hostile::readable(&error, "email"), "{error:?}"),
            }
        }
    }
}
