use valued_platform::domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid request: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(String),
    /// The request is well formed but the campaign's timetable does not allow it now.
    #[error("{0}")]
    Closed(String),
    /// The same thing was already submitted.
    #[error("{0}")]
    Duplicate(String),
    /// The caller is signed in but the trust, region or campaign is outside their roles.
    #[error("You do not have permission to {0}")]
    Forbidden(String),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(errors) => valued_platform::grpc::invalid_argument(&errors),
            Error::NotFound(what) => tonic::Status::not_found(format!("{what} not found")),
            Error::Closed(why) => tonic::Status::failed_precondition(why),
            Error::Duplicate(what) => tonic::Status::already_exists(what),
            Error::Forbidden(_) => tonic::Status::permission_denied(error.to_string()),
            Error::Database(error) => valued_platform::grpc::database_error(&error),
        }
    }
}
