//! The two backends, SQLite (embedded) and PostgreSQL (production). What differs between them is small and
//! written out per backend in its [`Dialect`] ([`sqlite`], [`postgres`]: connection options, migrations, query
//! builder, the import's fast path, keeping PostgreSQL's id sequence ahead of imported ids); what is the same is
//! written once in [`shared`] and expanded by a macro for each concrete store type. (A single generic impl over
//! `Dialect` needs higher-ranked `Executor` bounds that async-trait's `Send` futures do not accept; the macro keeps
//! every expansion concrete, and the trait makes its contract explicit.)

use async_trait::async_trait;
use chrono::Utc;

mod bulk;
mod observer;
pub mod version_signal;

use super::change_signal::{VersionListener, VersionReader};
use super::read_model::IndexBuilder;
use super::{Backend, ConnectError, DatabaseUrl, StoreOptions, StoreResult};
use crate::domain::BeerFields;

/// A migrator that tolerates migrations newer than the ones it embeds: rolling back to an older image must be
/// able to run its `migrate` (a no-op then) against a schema a newer release already moved forward, which is why
/// migrations are written expand/contract (see docs/deployment.md).
fn migrator(mut migrator: sqlx::migrate::Migrator) -> sqlx::migrate::Migrator {
    migrator.set_ignore_missing(true);
    migrator
}

fn connect_error(url: &DatabaseUrl, source: sqlx::Error) -> ConnectError {
    ConnectError {
        backend: url.backend(),
        target: url.redacted(),
        source,
    }
}

/// Opens a pool and waits for its first connection, at most `connect_timeout`.
async fn open<DB: sqlx::Database>(
    url: &DatabaseUrl,
    options: &StoreOptions,
    connect_options: <DB::Connection as sqlx::Connection>::Options,
) -> Result<sqlx::Pool<DB>, ConnectError> {
    let pool = sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(options.max_connections)
        // Also how long a request waits for a connection while the database is down: fail fast with a 503.
        .acquire_timeout(options.connect_timeout)
        .connect_with(connect_options);
    match tokio::time::timeout(options.connect_timeout, pool).await {
        Ok(result) => result.map_err(|e| connect_error(url, e)),
        Err(_) => Err(connect_error(url, sqlx::Error::PoolTimedOut)),
    }
}

/// What a backend supplies to the shared implementation that `impl_database!` writes: its sqlx database, pool,
/// query builder and migrations, and what it must do after an import. Everything else is the same SQL.
#[async_trait]
pub(crate) trait Dialect {
    type Database: sqlx::Database;
    type Builder: sea_query::QueryBuilder + Default;
    const BACKEND: Backend;
    /// The read model's rows, unordered and unfiltered (`sql::INDEX_ROWS_*_UNORDERED`).
    const INDEX_ROWS_UNORDERED: &'static str;
    /// Whether an update reads and locks the beer's row before it writes the `beers` table, so that the catalog
    /// version's lock is taken by its last statement (see `update`). SQLite must not: a transaction that reads
    /// before it writes fails with SQLITE_BUSY, instead of waiting, when another connection wrote in between.
    const LOCKS_BEER_BEFORE_WRITING: bool;

    fn pool(&self) -> &sqlx::Pool<Self::Database>;
    fn migrator() -> sqlx::migrate::Migrator;
    /// Prepares an import's transaction (settings that only make the bulk write cheaper).
    async fn before_import(tx: &mut sqlx::Transaction<'_, Self::Database>) -> StoreResult<()>;
    async fn after_import(tx: &mut sqlx::Transaction<'_, Self::Database>) -> StoreResult<()>;
    /// Which of `ids` are in the catalog, as `tx` sees it.
    async fn existing_ids(tx: &mut sqlx::Transaction<'_, Self::Database>, ids: &[i64]) -> StoreResult<Vec<i64>>;
    /// Writes beers whose ids are not in the catalog, with their terms, the fastest way the backend has (see
    /// [`bulk`]).
    async fn insert_new(
        tx: &mut sqlx::Transaction<'_, Self::Database>,
        beers: &[(i64, &BeerFields)],
        now: chrono::DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Tells the triggers that the rest of `tx` is a bulk write: its rows are not logged one by one in the change
    /// log (`catalog_changes`), and every read model older than it rebuilds fully instead of patching.
    async fn start_bulk_write(tx: &mut sqlx::Transaction<'_, Self::Database>) -> StoreResult<()>;
    /// Makes every read of `tx` see one snapshot of the database.
    async fn snapshot(tx: &mut sqlx::Transaction<'_, Self::Database>) -> StoreResult<()>;
    async fn version_reader(&self) -> StoreResult<Box<dyn VersionReader>>;
    async fn version_listener(&self) -> StoreResult<Option<Box<dyn VersionListener>>>;
    /// Every beer's index row, read in one snapshot, into `builder`; returns the snapshot's catalog version.
    async fn load_index_rows(&self, builder: &mut IndexBuilder) -> StoreResult<i64>;
}

/// Beers per multi-row upsert: 12 bound values each, well under SQLite's 32,766 and PostgreSQL's 65,535 values a
/// statement.
const IMPORT_BATCH: usize = 1_000;
/// Term rows per multi-row INSERT (3 values each).
const TERMS_PER_STATEMENT: usize = 5_000;
/// An import writing more beers than this is a bulk write (see `Dialect::start_bulk_write`): patching a read model
/// with more would cost about as much as rebuilding it, and logging each row would slow the import.
const BULK_WRITE: usize = 1_000;
/// Changed beers read per statement when patching the read model (their ids are written into its text).
const CHANGED_PER_STATEMENT: usize = 1_000;

/// An [`IndexRow`](super::read_model::IndexRow) from the columns of [`sql::INDEX_BEERS`] / [`sql::INDEX_ROWS_SQLITE`] (the first 11) and the
/// beer's terms, each text borrowed from the rows.
macro_rules! index_row {
    ($row:expr, $hops:expr, $malts:expr, $foods:expr) => {{
        use sqlx::Row;
        let row = $row;
        $crate::storage::read_model::IndexRow {
            id: row.try_get(0)?,
            name_search: row.try_get(1)?,
            yeast_search: row.try_get(2)?,
            style_search: row.try_get(3)?,
            abv: row.try_get(4)?,
            ibu: row.try_get(5)?,
            ebc: row.try_get(6)?,
            ph: row.try_get(7)?,
            first_brewed_month: row.try_get(8)?,
            created_at: row.try_get(9)?,
            updated_at: row.try_get(10)?,
            hops: $hops,
            malts: $malts,
            foods: $foods,
        }
    }};
}

// After the macro they use: a `macro_rules!` is in scope from its definition on.
mod postgres;
mod shared;
mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
