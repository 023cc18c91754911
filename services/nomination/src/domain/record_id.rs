use std::fmt;

use uuid::Uuid;

/// A record the caller names by id: the text they sent, which messages quote, and the id it parses
/// to. Text that is no id names nothing, so looking it up finds nothing, as with an unknown id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordId {
    text: String,
    id: Option<Uuid>,
}

impl RecordId {
    pub fn parse(text: &str) -> Self {
        Self {
            text: text.to_owned(),
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
}
