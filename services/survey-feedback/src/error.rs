use valued_platform::domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid request: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(String),
    /// The survey is not in a state that allows this (published, or not yet closed).
    #[error("{0}")]
    Conflict(String),
    /// A single-use invitation code was used already.
    #[error("invitation code already used")]
    AlreadyUsed,
    /// The survey closed: it takes no more responses.
    #[error("survey closed")]
    Closed,
    #[error("{0}")]
    Precondition(String),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// The request is well formed but the thing it is about is not in a state that allows it.
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("sealed field: {0}")]
    Sealing(#[from] valued_platform::sealed::SealError),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(errors) => valued_platform::grpc::invalid_argument(&errors),
            Error::NotFound(what) => tonic::Status::not_found(format!("{what} not found")),
            Error::Conflict(why) => tonic::Status::failed_precondition(why),
            Error::AlreadyUsed => tonic::Status::already_exists(
                "this invitation code has been used: each code answers the survey once",
            ),
            Error::Closed => tonic::Status::failed_precondition(
                "this survey has closed and takes no more responses",
            ),
            Error::Precondition(why) => tonic::Status::failed_precondition(why),
            Error::Database(error) => valued_platform::grpc::database_error(&error),
            Error::FailedPrecondition(why) => tonic::Status::failed_precondition(why),
            Error::Sealing(error) => {
                tracing::error!(%error, "a sealed field could not be sealed or opened");
                tonic::Status::internal("internal error")
            }
        }
    }
}
