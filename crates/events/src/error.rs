//! The one error type of the events crate; the HTTP edge maps it to Hasura's codes.

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error(transparent)]
    Database(#[from] graft_execute::DbError),
    #[error("invalid name for an event trigger: {0}")]
    InvalidName(String),
    #[error("environment variable \"{0}\" is not set")]
    MissingEnv(String),
    #[error("invalid webhook configuration: {0}")]
    InvalidWebhook(String),
    #[error("invalid cron schedule \"{schedule}\": {reason}")]
    InvalidSchedule { schedule: String, reason: String },
    #[error("{0}")]
    Identifier(#[from] graft_sql::IdentifierError),
}

impl From<tokio_postgres::Error> for EventsError {
    fn from(error: tokio_postgres::Error) -> Self {
        EventsError::Database(error.into())
    }
}

impl From<deadpool_postgres::PoolError> for EventsError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        EventsError::Database(error.into())
    }
}
