//! Importing a reference file (organisations in the ODS layout, the MP directory): the whole file
//! is checked first, and a file with any bad line imports nothing and names every one. The
//! command line prints the error; the browser's import shows each line at a field of its own.

use std::fmt;

use sea_orm::DbErr;

use crate::domain::FieldError;

/// One bad line of a file, by its line number (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why a file was not imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file is not a CSV we can read: {0}")]
    Unreadable(#[from] csv::Error),
    #[error("{} problem(s) in the file, nothing was imported:\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<RowError>),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

impl ImportError {
    /// What the person who uploaded the file is told, field by field: an unreadable file at
    /// `file`, each bad line at `line N`. A database error is not theirs to fix: it is returned.
    pub fn field_errors(self) -> Result<Vec<FieldError>, DbErr> {
        match self {
            Self::Unreadable(error) => Ok(vec![FieldError::new(
                "file",
                format!("The file is not a CSV we can read: {error}"),
            )]),
            Self::Invalid(rows) => Ok(rows
                .into_iter()
                .map(|row| FieldError::new(&format!("line {}", row.line), row.message))
                .collect()),
            Self::Database(error) => Err(error),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_line_is_named_at_a_field_of_its_own_and_a_database_error_is_kept() {
        let invalid = ImportError::Invalid(vec![
            RowError {
                line: 3,
                message: "no name".into(),
            },
            RowError {
                line: 7,
                message: "no such parent".into(),
            },
        ]);
        assert_eq!(
            invalid.to_string(),
            "2 problem(s) in the file, nothing was imported:\nline 3: no name\nline 7: no such parent"
        );
        let fields = invalid.field_errors().unwrap();
        assert_eq!(
            fields
                .iter()
                .map(|e| (e.field.as_str(), e.message.as_str()))
                .collect::<Vec<_>>(),
            [("line 3", "no name"), ("line 7", "no such parent")]
        );
        let database = ImportError::Database(DbErr::Custom("down".into()));
        assert!(database.field_errors().is_err());
    }
}
