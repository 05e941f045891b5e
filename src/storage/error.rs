//! What can go wrong talking to a database, as the layers above the backends need to tell it apart: worth a
//! retry (503) or not (500).

use super::Backend;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached right now (down, restarting, pool exhausted): worth retrying.
    // The driver's error is the `source`, not part of the message: `{:#}` and error reporters print the chain
    // once.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// An earlier call (or the background probe) found the database unreachable, so this one did not try: the
    /// probe clears it as soon as the database answers again. Its own variant so the message needs no driver error.
    #[error("database unavailable: known to be down, not trying until the background probe reaches it")]
    KnownDown,
    #[error("database error")]
    Database(#[source] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        let unavailable = match &error {
            // Protocol: the byte stream broke off mid-conversation (a dropped or half-open connection).
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            // PostgreSQL's connection exceptions (08xxx) and operator interventions such as a shutdown (57Pxx).
            sqlx::Error::Database(db) => db
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
            _ => false,
        };
        if unavailable {
            StoreError::Unavailable(error)
        } else {
            StoreError::Database(error)
        }
    }
}

impl StoreError {
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::KnownDown)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Why a store could not be opened; the message names the host and port (never the password).
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to {backend} database at {target}")]
pub struct ConnectError {
    pub backend: Backend,
    pub target: String,
    #[source]
    pub source: sqlx::Error,
}
