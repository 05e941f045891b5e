//! The catalog's change signal as each backend delivers it: a version number that moves on every change (the
//! `catalog_version` row, bumped by triggers, so any writer counts), read over a connection of its own so a busy
//! pool never delays it, and on PostgreSQL a `LISTEN` on the trigger's `NOTIFY` for changes as they commit.

use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgListener, PgPool};
use sqlx::sqlite::{SqliteConnection, SqlitePool};

use super::StoreResult;

/// The `NOTIFY` channel the PostgreSQL trigger signals (migrations/postgres/*_catalog_version.sql).
pub const CHANGE_CHANNEL: &str = "catalog_changed";

const READ_VERSION: &str = "SELECT version FROM catalog_version";

/// One watcher's reading of the change signal, over a connection of its own.
#[async_trait]
pub trait ChangeFeed: Send {
    /// The catalog's current version.
    async fn version(&mut self) -> StoreResult<i64>;
}

/// Changes as they commit, pushed by the database (PostgreSQL `LISTEN`). Only an accelerator: the watcher's
/// polling of [`ChangeFeed::version`] alone keeps caches within their staleness bound.
#[async_trait]
pub trait ChangeListener: Send {
    /// Waits for the next change notification. `Err` when the connection is lost; calling again reconnects.
    async fn next(&mut self) -> StoreResult<()>;
}

/// A connection taken out of the pool for good, so the watcher's reads never queue behind requests.
pub struct DedicatedFeed<C> {
    connection: C,
}

impl DedicatedFeed<SqliteConnection> {
    pub async fn open(pool: &SqlitePool) -> StoreResult<Self> {
        Ok(Self {
            connection: pool.acquire().await?.detach(),
        })
    }
}

impl DedicatedFeed<PgConnection> {
    pub async fn open(pool: &PgPool) -> StoreResult<Self> {
        Ok(Self {
            connection: pool.acquire().await?.detach(),
        })
    }
}

#[async_trait]
impl ChangeFeed for DedicatedFeed<SqliteConnection> {
    async fn version(&mut self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(READ_VERSION).fetch_one(&mut self.connection).await?)
    }
}

#[async_trait]
impl ChangeFeed for DedicatedFeed<PgConnection> {
    async fn version(&mut self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(READ_VERSION).fetch_one(&mut self.connection).await?)
    }
}

/// PostgreSQL: `LISTEN` on the trigger's channel, on a connection held from the pool.
pub struct PostgresChangeListener {
    listener: PgListener,
}

impl PostgresChangeListener {
    pub async fn open(pool: &PgPool) -> StoreResult<Self> {
        let mut listener = PgListener::connect_with(pool).await?;
        // Report a lost connection at once (the watcher then reads the version afresh, as notifications sent
        // meanwhile are lost) and reconnect on the next call.
        listener.eager_reconnect(false);
        listener.listen(CHANGE_CHANNEL).await?;
        Ok(Self { listener })
    }
}

#[async_trait]
impl ChangeListener for PostgresChangeListener {
    async fn next(&mut self) -> StoreResult<()> {
        match self.listener.try_recv().await? {
            Some(_notification) => Ok(()),
            None => Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "the change notification connection was lost",
            ))
            .into()),
        }
    }
}
