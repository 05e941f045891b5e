//! The two backends, SQLite (embedded) and PostgreSQL (production), as one generic [`Store`] over each one's sqlx
//! database type: [`SqliteStore`] is `Store<sqlx::Sqlite>`, [`PostgresStore`] is `Store<sqlx::Postgres>`.
//!
//! - What differs between them is small and written out per backend in its [`Dialect`] impl ([`sqlite`],
//!   [`postgres`]): connection options, migrations, query builder, the import's fast path ([`bulk`]), keeping
//!   PostgreSQL's id sequence ahead of imported ids, snapshots, the change signal ([`version_signal`]).
//! - What is the same is written once, as plain generic code: `impl<D: Dialect> CatalogReads for Store<D>` and the
//!   other roles in [`store`] (reads, change source, administration) and [`writes`] (catalog writes). Every
//!   statement comes from [`crate::storage::sql`], rendered by the dialect's query builder.
//! - [`driver`] is how that generic code reaches sqlx: sqlx's capabilities are bounds on other types (mostly
//!   higher-ranked), which a trait cannot hand on to its users, so each is stated once on a blanket impl and
//!   offered as a method; `Dialect` requires those traits as supertraits, which every `D: Dialect` bound carries.

use chrono::{DateTime, Utc};
use sea_query::QueryStatementWriter;
use sqlx::{Pool, Transaction};

mod bulk;
mod observer;
pub mod version_signal;

use self::driver::{Decodes, Runs, Statement};
use super::change_signal::{VersionListener, VersionReader};
use super::read_model::IndexBuilder;
use super::sql::{BeerRow, ImageMetaRow, RenderedRow, RenditionRow, StoredImageRow};
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

/// What differs between the backends, implemented on each one's sqlx database type (`sqlx::Sqlite`,
/// `sqlx::Postgres`): its query builder and migrations, how it prepares and finishes an import, its snapshot, its
/// change signal and its fastest way of loading the read model. Everything else is the same SQL, written once in
/// [`store`] and [`writes`] for any `Store<D: Dialect>`. The supertraits are what that code runs through sqlx
/// ([`driver`]): they hold for both databases, and as supertraits (unlike `where` clauses) they come with every
/// `D: Dialect` bound. Its async functions are plain `async fn` (no boxing) promised `Send`, which is what lets
/// the role traits' `#[async_trait]` impls be generic.
pub(crate) trait Dialect:
    sqlx::Database<Connection: sqlx::migrate::Migrate>
    + Runs
    + Decodes<BeerRow>
    + Decodes<RenderedRow>
    + Decodes<ImageMetaRow>
    + Decodes<StoredImageRow>
    + Decodes<RenditionRow>
    + Decodes<(i64,)>
    + Decodes<(i64, i64)>
    + Decodes<(i64, DateTime<Utc>)>
    + Decodes<(String,)>
    + Decodes<(Option<String>,)>
{
    type Builder: sea_query::QueryBuilder + Default;
    const BACKEND: Backend;
    /// The read model's rows, unordered and unfiltered (`sql::INDEX_ROWS_*_UNORDERED`).
    const INDEX_ROWS_UNORDERED: &'static str;
    /// Whether a beer's create and replace run as one statement, its row and its terms together
    /// ([`crate::storage::sql::create_with_terms`]): PostgreSQL can (data-modifying `WITH`), SQLite cannot.
    const WRITES_BEER_IN_ONE_STATEMENT: bool;

    fn migrator() -> sqlx::migrate::Migrator;
    /// The server's TCP address (host, port), for the resume probe ([`crate::storage::ChangeSource::accepts_tcp`]);
    /// `None` without one (SQLite, a Unix socket).
    fn tcp_address(_pool: &sqlx::Pool<Self>) -> Option<(String, u16)> {
        None
    }
    /// How many rows a statement changed (sqlx has no trait for it).
    fn rows_affected(result: &Self::QueryResult) -> u64;
    /// A sea-query statement in this backend's SQL, ready to run.
    fn build(statement: &impl QueryStatementWriter) -> Statement {
        let (sql, values) = statement.build(Self::Builder::default());
        Statement::new(sql, values)
    }
    /// Prepares an import's transaction (settings that only make the bulk write cheaper).
    fn before_import(tx: &mut Transaction<'_, Self>) -> impl Future<Output = StoreResult<()>> + Send;
    fn after_import(tx: &mut Transaction<'_, Self>) -> impl Future<Output = StoreResult<()>> + Send;
    /// Which of `ids` are in the catalog, as `tx` sees it.
    fn existing_ids(tx: &mut Transaction<'_, Self>, ids: &[i64]) -> impl Future<Output = StoreResult<Vec<i64>>> + Send;
    /// Writes beers whose ids are not in the catalog, with their terms, the fastest way the backend has (see
    /// [`bulk`]).
    fn insert_new(
        tx: &mut Transaction<'_, Self>,
        beers: &[(i64, &BeerFields)],
        now: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Tells the triggers that the rest of `tx` is a bulk write: its rows are not logged one by one in the change
    /// log (`catalog_changes`), and every read model older than it rebuilds fully instead of patching.
    fn start_bulk_write(tx: &mut Transaction<'_, Self>) -> impl Future<Output = StoreResult<()>> + Send;
    /// Makes every read of `tx` see one snapshot of the database.
    fn snapshot(tx: &mut Transaction<'_, Self>) -> impl Future<Output = StoreResult<()>> + Send;
    fn version_reader(pool: &Pool<Self>) -> impl Future<Output = StoreResult<Box<dyn VersionReader>>> + Send;
    fn version_listener(
        pool: &Pool<Self>,
    ) -> impl Future<Output = StoreResult<Option<Box<dyn VersionListener>>>> + Send;
    /// Every beer's index row, read in one snapshot, into `builder`; returns the snapshot's catalog version.
    fn load_index_rows(pool: &Pool<Self>, builder: &mut IndexBuilder) -> impl Future<Output = StoreResult<i64>> + Send;
}

/// A connection pool to one database, and through it every role of the storage interface (for `D: Dialect`;
/// the impls are in [`store`] and [`writes`]).
pub struct Store<D: sqlx::Database> {
    pool: Pool<D>,
    /// Set by the server's stack ([`observer::Observer`]); data jobs record nothing.
    observer: observer::Observer,
}

/// The embedded backend ([`sqlite`]).
pub type SqliteStore = Store<sqlx::Sqlite>;
/// The production backend ([`postgres`]).
pub type PostgresStore = Store<sqlx::Postgres>;

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

mod driver;
mod postgres;
mod sqlite;
mod store;
mod writes;
