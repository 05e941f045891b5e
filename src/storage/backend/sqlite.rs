//! SQLite, the embedded default: a file, WAL journaling, one writer at a time.

use std::str::FromStr;

use chrono::Utc;
use sea_query::SqliteQueryBuilder;
use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteQueryResult, SqliteSynchronous};

use super::driver::{Runs, Statement};
use super::observer::Observer;
use super::version_signal::DedicatedVersionReader;
use super::{Dialect, SqliteStore, bulk, connect_error, open};
use crate::domain::BeerFields;
use crate::storage::change_signal::{VersionListener, VersionReader};
use crate::storage::read_model::IndexBuilder;
use crate::storage::sql;
use crate::storage::{Backend, ConnectError, DatabaseUrl, StoreOptions, StoreResult};

impl SqliteStore {
    pub async fn connect(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, ConnectError> {
        let connect_options = SqliteConnectOptions::from_str(url.expose())
            .map_err(|e| connect_error(url, e))?
            .create_if_missing(true)
            // WAL lets readers proceed while a writer commits; NORMAL is durable under WAL except on power loss.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(options.connect_timeout);
        Ok(Self {
            pool: open(url, options, connect_options).await?,
            observer: Observer::default(),
        })
    }
}

impl Dialect for Sqlite {
    type Builder = SqliteQueryBuilder;
    const BACKEND: Backend = Backend::Sqlite;
    const INDEX_ROWS_UNORDERED: &'static str = sql::INDEX_ROWS_SQLITE_UNORDERED;
    const WRITES_BEER_IN_ONE_STATEMENT: bool = false;

    fn migrator() -> sqlx::migrate::Migrator {
        sqlx::migrate!("./migrations/sqlite")
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    async fn before_import(tx: &mut sqlx::Transaction<'_, Sqlite>) -> StoreResult<()> {
        // The default page cache (2 MB) makes a large transaction spill pages and read them back; the import's
        // connection gets a bigger one (a bound on memory all the same). Only the `import` command writes
        // through this path, and its connections close with it.
        sqlx::query("PRAGMA cache_size = -131072").execute(&mut **tx).await?;
        Ok(())
    }

    async fn after_import(tx: &mut sqlx::Transaction<'_, Sqlite>) -> StoreResult<()> {
        // AUTOINCREMENT already moves past the largest id written. The bulk flag is never committed set: other
        // writers' rows must be logged.
        sqlx::query("UPDATE catalog_version SET bulk_write = 0 WHERE id = 1 AND bulk_write <> 0")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// While the flag is set the row triggers do nothing, not even bump the version (one UPDATE per beer saved):
    /// bumped here once instead, with the log's start moved to it.
    async fn start_bulk_write(tx: &mut sqlx::Transaction<'_, Sqlite>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE catalog_version SET bulk_write = 1, version = version + 1, changes_from = version + 1 WHERE id = 1",
        )
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn existing_ids(tx: &mut sqlx::Transaction<'_, Sqlite>, ids: &[i64]) -> StoreResult<Vec<i64>> {
        bulk::existing_ids_sqlite(tx, ids).await
    }

    async fn insert_new(
        tx: &mut sqlx::Transaction<'_, Sqlite>,
        beers: &[(i64, &BeerFields)],
        now: chrono::DateTime<Utc>,
    ) -> StoreResult<()> {
        bulk::insert_new_beers_sqlite(tx, beers, now).await
    }

    async fn snapshot(_tx: &mut sqlx::Transaction<'_, Sqlite>) -> StoreResult<()> {
        // In WAL mode a transaction's reads already share the snapshot its first read took.
        Ok(())
    }

    async fn version_reader(pool: &SqlitePool) -> StoreResult<Box<dyn VersionReader>> {
        Ok(Box::new(
            DedicatedVersionReader::<sqlx::SqliteConnection>::open(pool).await?,
        ))
    }

    /// SQLite has no notifications; the version follower's polling of a local file is cheap.
    async fn version_listener(_pool: &SqlitePool) -> StoreResult<Option<Box<dyn VersionListener>>> {
        Ok(None)
    }

    async fn load_index_rows(pool: &SqlitePool, builder: &mut IndexBuilder) -> StoreResult<i64> {
        let mut tx = pool.begin().await?;
        Self::snapshot(&mut tx).await?;
        let version: i64 = sqlx::query_scalar(sql::CATALOG_VERSION).fetch_one(&mut *tx).await?;
        Self::push_index_rows(&mut tx, Statement::fixed(sql::INDEX_ROWS_SQLITE), builder).await?;
        tx.commit().await?;
        Ok(version)
    }
}
