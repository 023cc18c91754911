use std::fmt;

use uuid::Uuid;
use valued_platform::domain::is_hidden_control;

/// A record the caller names by id: the text they sent, which messages quote, and the id it parses
/// to. Text that is no id names nothing, so looking it up finds nothing, as with an unknown id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordId {
    text: String,
    id: Option<Uuid>,
}

impl RecordId {
    /// Characters of the text a message quotes; an id in any of its forms fits.
    pub const QUOTED_CHARS: usize = 48;

    /// Reads the id, and keeps the text to quote as far as it can be quoted safely: without
    /// [hidden controls](is_hidden_control), with control characters shown as U+FFFD, and cut
    /// (at a character, marked `…`) after [`Self::QUOTED_CHARS`] characters, so that no id sent,
    /// however long or strange, makes an error message unreadable or too large to send back.
    pub fn parse(text: &str) -> Self {
        let mut quoted = text
            .chars()
            .filter(|&c| !is_hidden_control(c))
            .map(|c| if c.is_control() { '\u{FFFD}' } else { c });
        let mut quoted_text: String = quoted.by_ref().take(Self::QUOTED_CHARS).collect();
        if quoted.next().is_some() {
            quoted_text.push('…');
        }
        Self {
            text: quoted_text,
            id: text.trim().parse().ok(),
        }
    }

    /// The id, when the text was one.
    pub fn id(&self) -> Option<Uuid> {
        self.id
    }
}

impl From<Uuid> for RecordId {
    fn from(id: Uuid) -> Self {
        Self {
            text: id.to_string(),
            id: Some(id),
        }
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

    use super::*;

    #[test]
    fn an_id_is_read_and_quoted_as_sent() {
        let id = Uuid::now_v7();
        let named = RecordId::parse(&format!(" {id}"));
        assert_eq!(named.id(), Some(id));
        assert_eq!(named.to_string(), format!(" {id}"));
        assert_eq!(RecordId::from(id), RecordId::parse(&id.to_string()));
    }

    #[test]
    fn text_that_is_no_id_names_nothing() {
        let named = RecordId::parse("not-an-id");
        assert_eq!(named.id(), None);
        assert_eq!(named.to_string(), "not-an-id");
    }

    #[test]
    fn long_and_strange_text_is_quoted_short_and_plain() {
        let named = RecordId::parse(&format!("\u{202E}{}\0x", "é".repeat(100)));
        assert_eq!(named.id(), None);
        assert_eq!(named.to_string(), format!("{}…", "é".repeat(48)));
        assert_eq!(
            RecordId::parse("a\0\u{200B}b\n").to_string(),
            "a\u{FFFD}b\u{FFFD}"
        );
    }

    proptest! {
        #[test]
        fn any_text_is_read_and_quoted_safely(
            text in prop_oneof![hostile::TEXT, hostile::LONG_TEXT],
        ) {
            let named = RecordId::parse(&text);
            prop_assert_eq!(named.id(), text.trim().parse::<Uuid>().ok());
            let quoted = named.to_string();
            prop_assert!(quoted.chars().count() <= RecordId::QUOTED_CHARS + 1);
            prop_assert!(!quoted.chars().any(|c| c.is_control() || is_hidden_control(c)));
            prop_assert_eq!(RecordId::parse(&quoted).to_string(), quoted);
        }
    }
}
