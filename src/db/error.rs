//! What can go wrong in the database layer, without saying how a caller answers it.

/// A database failure. The causes name servers and databases: they belong in the log.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A query or transaction failed.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    /// No connection could be had from the pool.
    #[error(transparent)]
    NoConnection(#[from] diesel::r2d2::PoolError),
    /// The writers' queues are full.
    #[error("The service is busy writing; retry shortly")]
    Busy,
    /// The group a change belonged to was rolled back through no fault of the change.
    #[error("The database did not store the change; send it again")]
    NotStored,
    /// The SQLite file is gone.
    #[error("The database file is missing")]
    Missing,
    /// The database did not answer a ping.
    #[error("The database does not answer")]
    NoAnswer,
    /// The machinery around the database failed (a writer thread, a blocking task).
    #[error("{0}")]
    Internal(String),
}

/// An error type that database work may return: it takes in diesel's errors (so that
/// `transaction` works) and the layer's own.
pub trait FromDb: From<DbError> + From<diesel::result::Error> + Send + 'static {}

impl<E> FromDb for E where E: From<DbError> + From<diesel::result::Error> + Send + 'static {}
