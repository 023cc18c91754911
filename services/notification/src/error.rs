//! The notification service's one error type, and the one place it becomes a gRPC status.

use valued_platform::domain::FieldError;

use crate::mps::LookupError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is invalid as it stands, field by field.
    #[error("invalid: {0:?}")]
    Invalid(Vec<FieldError>),
    /// What the request names does not exist (with why, in words for the person who asked).
    #[error("{0}")]
    NotFound(String),
    /// Refused as it stands (a copy, a limit, an MP we cannot write to, a letter already reviewed).
    #[error("{0}")]
    Refused(String),
    /// The signed-in caller may not do this (what, in words).
    #[error("may not {0}")]
    Forbidden(String),
    /// A service we depend on (the postcode lookup) is down: try again later.
    #[error("{0}")]
    Unavailable(String),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("template: {0}")]
    Template(#[from] minijinja::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(errors) => valued_platform::grpc::invalid_argument(&errors),
            Error::NotFound(what) => tonic::Status::not_found(what),
            Error::Refused(why) => tonic::Status::failed_precondition(why),
            Error::Unavailable(why) => tonic::Status::unavailable(why),
            Error::Forbidden(what) => {
                tonic::Status::permission_denied(format!("your account may not {what}"))
            }
            Error::Database(error) => valued_platform::grpc::database_error(&error),
            Error::Template(error) => valued_platform::grpc::internal(&error),
        }
    }
}

/// A postcode that cannot be placed in a constituency, in words for the person who typed it.
impl From<LookupError> for Error {
    fn from(error: LookupError) -> Self {
        match error {
            LookupError::InvalidPostcode(_) => Self::Invalid(vec![FieldError::new(
                "postcode",
                "Enter a full UK postcode, like SW1A 0AA",
            )]),
            LookupError::UnknownPostcode(p) | LookupError::NoConstituency(p) => {
                Self::NotFound(format!(
                    "We could not find a constituency for the postcode {p}. Check it and try again."
                ))
            }
            other if other.is_temporary() => Self::Unavailable(
                "We cannot look up postcodes at the moment. Please try again in a few minutes."
                    .into(),
            ),
            other => Self::Unavailable(other.to_string()),
        }
    }
}
