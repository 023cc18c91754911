use valued_platform::domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid request: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(String),
    /// The database's one-vote-per-voter-per-ballot constraint refused a second vote.
    #[error("the voter has already voted in this ballot")]
    AlreadyVoted,
    /// Not now: the vote is not open, or its results are not out; the message says when.
    #[error("{0}")]
    Closed(String),
    /// The campaign's vote does not admit this voter (any longer); the message says what it does.
    #[error("{0}")]
    Ineligible(String),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(errors) => valued_platform::grpc::invalid_argument(&errors),
            Error::NotFound(what) => tonic::Status::not_found(format!("{what} not found")),
            Error::AlreadyVoted => {
                tonic::Status::already_exists("You have already voted in this ballot")
            }
            Error::Closed(why) | Error::Ineligible(why) => tonic::Status::failed_precondition(why),
            Error::Database(error) => valued_platform::grpc::database_error(&error),
        }
    }
}
