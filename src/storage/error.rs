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
    /// The database accepts connections but has not answered yet: it is resuming (Aurora Serverless v2 waking
    /// from a pause takes up to ~15 s). Like [`StoreError::KnownDown`], this call did not try.
    #[error(
        "database resuming: it accepts connections but has not answered yet, not trying until the background probe reaches it"
    )]
    Resuming,
    /// Too many catalog queries are waiting for the read model's threads: refused at once, worth retrying.
    #[error("the service is busy: too many catalog queries are waiting; retry shortly")]
    Busy,
    /// The database undid the transaction because it met a concurrent one on the same rows (SQLSTATE class 40: a
    /// deadlock, a serialization failure); nothing was written. Worth retrying, but not an outage: during a
    /// blue/green bake the two releases lock a beer and the catalog version in different orders, so two replaces
    /// of one beer at the same moment can deadlock (docs/deployment.md).
    #[error("the write met a concurrent write to the same beer and was undone")]
    Conflict(#[source] sqlx::Error),
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
            sqlx::Error::Database(db) => db.code().is_some_and(|code| refuses_service(&code)),
            _ => false,
        };
        let conflict = matches!(&error, sqlx::Error::Database(db) if db.code().is_some_and(|code| undone_by_a_concurrent_write(&code)));
        if unavailable {
            StoreError::Unavailable(error)
        } else if conflict {
            StoreError::Conflict(error)
        } else {
            StoreError::Database(error)
        }
    }
}

/// SQLSTATEs with which PostgreSQL refuses to serve at all, for now: worth a retry, as for an unreachable server.
/// Connection exceptions (08xxx) and operator interventions such as a shutdown (57Pxx); a database not accepting
/// connections (55000: `ALLOW_CONNECTIONS false`, a restore under way); a password rejected (28P01, 28000: the
/// moments of a secret rotation); a database that does not exist (3D000: dropped, or not restored yet); and too
/// many connections (53300).
fn refuses_service(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57P") || matches!(code, "55000" | "28P01" | "28000" | "3D000" | "53300")
}

/// Transaction rollback (class 40): a deadlock (40P01) or a serialization failure (40001) undid the transaction.
fn undone_by_a_concurrent_write(code: &str) -> bool {
    code.starts_with("40")
}

impl StoreError {
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable(_) | StoreError::KnownDown | StoreError::Resuming | StoreError::Busy
        )
    }
}

impl StoreError {
    /// No connection within the pool's wait: a database slow to accept (resuming), or one refusing for that long
    /// (sqlx retries a refused connect until the wait ends), or an exhausted pool. The version follower's probe
    /// tells them apart (`Freshness::report_unavailable`).
    pub fn is_slow_connect(&self) -> bool {
        matches!(self, StoreError::Unavailable(sqlx::Error::PoolTimedOut))
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

#[cfg(test)]
mod tests {
    use super::{refuses_service, undone_by_a_concurrent_write};

    #[test]
    fn refusals_to_serve_are_outages_and_query_errors_are_not() {
        for code in [
            "08006", "08001", "57P01", "57P03", "55000", "28P01", "28000", "3D000", "53300",
        ] {
            assert!(refuses_service(code), "{code}");
        }
        // A unique violation, a syntax error, a serialization failure: the query's fault, not the server's.
        for code in ["23505", "42601", "40001", "22P02"] {
            assert!(!refuses_service(code), "{code}");
        }
    }

    #[test]
    fn deadlocks_and_serialization_failures_are_conflicts_worth_a_retry_not_outages() {
        for code in ["40P01", "40001"] {
            assert!(undone_by_a_concurrent_write(code) && !refuses_service(code), "{code}");
        }
        for code in ["23505", "08006", "42601"] {
            assert!(!undone_by_a_concurrent_write(code), "{code}");
        }
    }
}
