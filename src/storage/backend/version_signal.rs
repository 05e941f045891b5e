//! Each backend's reading of the change signal ([`crate::storage::change_signal`]): the `catalog_version` row over
//! a connection of its own, and on PostgreSQL a `LISTEN` on the trigger's `NOTIFY`.

use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgListener, PgPool};
use sqlx::sqlite::{SqliteConnection, SqlitePool};

use crate::storage::StoreResult;
use crate::storage::change_signal::{VersionListener, VersionReader};

/// The `NOTIFY` channel the PostgreSQL trigger signals (migrations/postgres/*_catalog_version.sql).
pub const CHANGE_CHANNEL: &str = "catalog_changed";

const READ_VERSION: &str = "SELECT version FROM catalog_version";

/// A connection taken out of the pool for good, so the version follower's reads never queue behind requests.
pub struct DedicatedVersionReader<C> {
    connection: C,
}

impl DedicatedVersionReader<SqliteConnection> {
    pub async fn open(pool: &SqlitePool) -> StoreResult<Self> {
        Ok(Self {
            connection: pool.acquire().await?.detach(),
        })
    }
}

impl DedicatedVersionReader<PgConnection> {
    pub async fn open(pool: &PgPool) -> StoreResult<Self> {
        Ok(Self {
            connection: pool.acquire().await?.detach(),
        })
    }
}

#[async_trait]
impl VersionReader for DedicatedVersionReader<SqliteConnection> {
    async fn version(&mut self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(READ_VERSION).fetch_one(&mut self.connection).await?)
    }
}

#[async_trait]
impl VersionReader for DedicatedVersionReader<PgConnection> {
    async fn version(&mut self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(READ_VERSION).fetch_one(&mut self.connection).await?)
    }
}

/// PostgreSQL: `LISTEN` on the trigger's channel, on a connection held from the pool.
pub struct PostgresVersionListener {
    listener: PgListener,
}

impl PostgresVersionListener {
    pub async fn open(pool: &PgPool) -> StoreResult<Self> {
        let mut listener = PgListener::connect_with(pool).await?;
        // Report a lost connection at once (the version follower then reads the version afresh, as notifications sent
        // meanwhile are lost) and reconnect on the next call.
        listener.eager_reconnect(false);
        listener.listen(CHANGE_CHANNEL).await?;
        Ok(Self { listener })
    }
}

#[async_trait]
impl VersionListener for PostgresVersionListener {
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
