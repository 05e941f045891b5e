//! The two backends. What differs between them is small and written out per backend in its [`Dialect`]
//! (connection options, migrations, query builder, keeping PostgreSQL's id sequence ahead of imported ids); what
//! is the same is generated once by `impl_beer_store!` for each concrete store type. (A single generic impl over
//! `Dialect` needs higher-ranked `Executor` bounds that async-trait's `Send` futures do not accept; the macro keeps
//! every expansion concrete, and the trait makes its contract explicit.)

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{SubsecRound, Utc};
use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
use sea_query_binder::SqlxBinder;
use sqlx::FromRow;
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};

use super::bulk;
use super::change_feed::{DedicatedFeed, PostgresChangeListener};
use super::read_model::{CatalogIndex, IndexBuilder, IndexChanges, IndexRow};
use super::rendered::{self, JsonShape};
use super::sql::{self, BeerRow, ImageMetaRow, RenderedRow};
use super::{
    Backend, BeerStore, ChangeFeed, ChangeListener, ConnectError, DatabaseUrl, ImageRemoval, ImportMessage,
    ImportRecord, StoreOptions, StoreResult, StoredImage,
};
use crate::domain::{Beer, BeerFields, BeerFilter, ImageMeta, ListQuery, NewImage};

/// A migrator that tolerates migrations newer than the ones it embeds: rolling back to an older image must be
/// able to run its `migrate` (a no-op then) against a schema a newer release already moved forward, which is why
/// migrations are written expand/contract (see docs/deployment.md).
fn migrator(mut migrator: sqlx::migrate::Migrator) -> sqlx::migrate::Migrator {
    migrator.set_ignore_missing(true);
    migrator
}

pub struct SqliteStore {
    pool: SqlitePool,
}

pub struct PostgresStore {
    pool: PgPool,
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
        })
    }
}

impl PostgresStore {
    pub async fn connect(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, ConnectError> {
        Ok(Self {
            pool: open(url, options, Self::connect_options(url)?).await?,
        })
    }

    /// A store whose pool connects on first use: for a read replica, which may be down when the service starts
    /// without that stopping it (reads then go to the primary). Fails only on a malformed target.
    pub fn connect_lazy(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, ConnectError> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.connect_timeout)
            .connect_lazy_with(Self::connect_options(url)?);
        Ok(Self { pool })
    }

    /// The driver's options for `url` (the replica monitor opens its own connections with them).
    pub(super) fn connect_options(url: &DatabaseUrl) -> Result<PgConnectOptions, ConnectError> {
        Ok(match url.postgres_options() {
            Some(options) => options.clone(),
            None => PgConnectOptions::from_str(url.expose()).map_err(|e| connect_error(url, e))?,
        }
        .application_name("beer-catalog"))
    }
}

/// What a backend supplies to the shared implementation that `impl_beer_store!` writes: its sqlx database, pool,
/// query builder and migrations, and what it must do after an import. Everything else is the same SQL.
#[async_trait]
trait Dialect {
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
    async fn change_feed(&self) -> StoreResult<Box<dyn ChangeFeed>>;
    async fn change_listener(&self) -> StoreResult<Option<Box<dyn ChangeListener>>>;
    /// Every beer's index row, read in one snapshot, into `builder`; returns the snapshot's catalog version.
    async fn load_index_rows(&self, builder: &mut IndexBuilder) -> StoreResult<i64>;
}

/// An [`IndexRow`] from the columns of [`sql::INDEX_BEERS`] / [`sql::INDEX_ROWS_SQLITE`] (the first 11) and the
/// beer's terms, each text borrowed from the rows.
macro_rules! index_row {
    ($row:expr, $hops:expr, $malts:expr, $foods:expr) => {{
        use sqlx::Row;
        let row = $row;
        IndexRow {
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

#[async_trait]
impl Dialect for SqliteStore {
    type Database = sqlx::Sqlite;
    type Builder = SqliteQueryBuilder;
    const BACKEND: Backend = Backend::Sqlite;
    const INDEX_ROWS_UNORDERED: &'static str = sql::INDEX_ROWS_SQLITE_UNORDERED;
    // SQLite has one writer at a time anyway: its write lock is what serialises, whatever the order.
    const LOCKS_BEER_BEFORE_WRITING: bool = false;

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    fn migrator() -> sqlx::migrate::Migrator {
        sqlx::migrate!("./migrations/sqlite")
    }

    async fn before_import(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>) -> StoreResult<()> {
        // The default page cache (2 MB) makes a large transaction spill pages and read them back; the import's
        // connection gets a bigger one (a bound on memory all the same). Only the `import` command writes
        // through this path, and its connections close with it.
        sqlx::query("PRAGMA cache_size = -131072").execute(&mut **tx).await?;
        Ok(())
    }

    async fn after_import(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>) -> StoreResult<()> {
        // AUTOINCREMENT already moves past the largest id written. The bulk flag is never committed set: other
        // writers' rows must be logged.
        sqlx::query("UPDATE catalog_version SET bulk_write = 0 WHERE id = 1 AND bulk_write <> 0")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// While the flag is set the row triggers do nothing, not even bump the version (one UPDATE per beer saved):
    /// bumped here once instead, with the log's start moved to it.
    async fn start_bulk_write(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE catalog_version SET bulk_write = 1, version = version + 1, changes_from = version + 1 WHERE id = 1",
        )
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn existing_ids(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>, ids: &[i64]) -> StoreResult<Vec<i64>> {
        bulk::existing_ids_sqlite(tx, ids).await
    }

    async fn insert_new(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        beers: &[(i64, &BeerFields)],
        now: chrono::DateTime<Utc>,
    ) -> StoreResult<()> {
        bulk::insert_new_beers_sqlite(tx, beers, now).await
    }

    async fn snapshot(_tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>) -> StoreResult<()> {
        // In WAL mode a transaction's reads already share the snapshot its first read took.
        Ok(())
    }

    async fn change_feed(&self) -> StoreResult<Box<dyn ChangeFeed>> {
        Ok(Box::new(
            DedicatedFeed::<sqlx::SqliteConnection>::open(&self.pool).await?,
        ))
    }

    /// SQLite has no notifications; the watcher's polling of a local file is cheap.
    async fn change_listener(&self) -> StoreResult<Option<Box<dyn ChangeListener>>> {
        Ok(None)
    }

    async fn load_index_rows(&self, builder: &mut IndexBuilder) -> StoreResult<i64> {
        use futures_util::TryStreamExt;
        let mut tx = self.pool.begin().await?;
        Self::snapshot(&mut tx).await?;
        let version: i64 = sqlx::query_scalar(sql::CATALOG_VERSION).fetch_one(&mut *tx).await?;
        {
            let mut rows = sqlx::query(sql::INDEX_ROWS_SQLITE).fetch(&mut *tx);
            while let Some(row) = rows.try_next().await? {
                builder.push_beer(&index_row!(&row, row.try_get(11)?, row.try_get(12)?, row.try_get(13)?));
            }
        }
        tx.commit().await?;
        Ok(version)
    }
}

#[async_trait]
impl Dialect for PostgresStore {
    type Database = sqlx::Postgres;
    type Builder = PostgresQueryBuilder;
    const BACKEND: Backend = Backend::Postgres;
    const INDEX_ROWS_UNORDERED: &'static str = sql::INDEX_ROWS_POSTGRES_UNORDERED;
    const LOCKS_BEER_BEFORE_WRITING: bool = true;

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn migrator() -> sqlx::migrate::Migrator {
        sqlx::migrate!("./migrations/postgres")
    }

    /// Documents and renderings are TOASTed (a beer's row is above 2 kB): LZ4 compresses them several times
    /// faster than the default pglz, and reads decompress either. Only this transaction's writes are affected;
    /// a server built without LZ4 keeps its default.
    async fn before_import(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> StoreResult<()> {
        let lz4: bool = sqlx::query_scalar(
            "SELECT COALESCE((SELECT 'lz4' = ANY(enumvals) FROM pg_settings \
             WHERE name = 'default_toast_compression'), FALSE)",
        )
        .fetch_one(&mut **tx)
        .await?;
        if lz4 {
            sqlx::query("SET LOCAL default_toast_compression = 'lz4'")
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Imported rows carry explicit ids, which an identity column's sequence does not see: move it past them so
    /// the next `POST /beers` does not collide.
    async fn after_import(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> StoreResult<()> {
        sqlx::query("SELECT setval(pg_get_serial_sequence('beers', 'id'), GREATEST((SELECT MAX(id) FROM beers), 1))")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn existing_ids(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, ids: &[i64]) -> StoreResult<Vec<i64>> {
        bulk::existing_ids_postgres(tx, ids).await
    }

    async fn insert_new(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        beers: &[(i64, &BeerFields)],
        now: chrono::DateTime<Utc>,
    ) -> StoreResult<()> {
        bulk::copy_new_beers(tx, beers, now).await
    }

    /// Transaction-local: the statement trigger then moves the log's start to each statement's version, and the
    /// row trigger's WHEN skips every row.
    async fn start_bulk_write(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> StoreResult<()> {
        sqlx::query("SELECT set_config('beer_catalog.changes_logged', 'off', true)")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn snapshot(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> StoreResult<()> {
        // READ COMMITTED would give each statement its own snapshot: the beers and their terms must agree.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn change_feed(&self) -> StoreResult<Box<dyn ChangeFeed>> {
        Ok(Box::new(DedicatedFeed::<sqlx::PgConnection>::open(&self.pool).await?))
    }

    async fn change_listener(&self) -> StoreResult<Option<Box<dyn ChangeListener>>> {
        Ok(Some(Box::new(PostgresChangeListener::open(&self.pool).await?)))
    }

    /// Two connections in one snapshot (exported by the first): the beers on one, their terms (aggregated per
    /// beer) on the other, merged by id here. The database then reads both tables at once, on two cores, instead
    /// of one after the other; with no connection to spare, one query joins them (LATERAL).
    async fn load_index_rows(&self, builder: &mut IndexBuilder) -> StoreResult<i64> {
        use futures_util::TryStreamExt;
        use sqlx::{Connection, Row};
        let mut tx = self.pool.begin().await?;
        Self::snapshot(&mut tx).await?;
        // A connection the pool has or can open now; a busy pool's is not waited for long.
        let second = tokio::time::timeout(std::time::Duration::from_millis(500), self.pool.acquire()).await;
        let Ok(Ok(mut second)) = second else {
            let version: i64 = sqlx::query_scalar(sql::CATALOG_VERSION).fetch_one(&mut *tx).await?;
            {
                let mut rows = sqlx::query(sql::INDEX_ROWS_POSTGRES).fetch(&mut *tx);
                while let Some(row) = rows.try_next().await? {
                    builder.push_beer(&index_row!(&row, row.try_get(11)?, row.try_get(12)?, row.try_get(13)?));
                }
            }
            tx.commit().await?;
            return Ok(version);
        };
        let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await?;
        let version: i64 = sqlx::query_scalar(sql::CATALOG_VERSION).fetch_one(&mut *tx).await?;
        let mut terms_tx = second.begin().await?;
        Self::snapshot(&mut terms_tx).await?;
        // The identifier comes from the server (`pg_export_snapshot`) and SET takes no bind parameter.
        sqlx::query(&format!("SET TRANSACTION SNAPSHOT '{}'", snapshot.replace('\'', "''")))
            .execute(&mut *terms_tx)
            .await?;
        {
            let mut terms = sqlx::query(sql::INDEX_TERMS).fetch(&mut *terms_tx);
            let mut beers = sqlx::query(sql::INDEX_BEERS).fetch(&mut *tx);
            let mut next_terms = terms.try_next().await?;
            while let Some(row) = beers.try_next().await? {
                let id: i64 = row.try_get(0)?;
                // Both in ascending id order; a beer without terms has no terms row.
                while let Some(t) = &next_terms
                    && t.try_get::<i64, _>(0)? < id
                {
                    next_terms = terms.try_next().await?;
                }
                let of_this = next_terms.as_ref().filter(|t| t.try_get::<i64, _>(0).ok() == Some(id));
                let kind = |column: usize| -> StoreResult<&str> {
                    Ok(match of_this {
                        Some(t) => t.try_get::<Option<&str>, _>(column)?.unwrap_or(""),
                        None => "",
                    })
                };
                builder.push_beer(&index_row!(&row, kind(1)?, kind(2)?, kind(3)?));
            }
        }
        terms_tx.commit().await?;
        tx.commit().await?;
        Ok(version)
    }
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

/// The store interface over a [`Dialect`], written once and expanded per concrete store type.
macro_rules! impl_beer_store {
    ($store:ty) => {
        #[async_trait]
        impl BeerStore for $store {
            fn backend(&self) -> Backend {
                <$store as Dialect>::BACKEND
            }

            async fn migrate(&self) -> StoreResult<()> {
                Ok(migrator(<$store as Dialect>::migrator()).run(self.pool()).await?)
            }

            #[tracing::instrument(name = "store.ping", skip_all)]
            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(self.pool()).await?;
                Ok(())
            }

            #[tracing::instrument(name = "store.list", skip_all)]
            async fn list(&self, query: &ListQuery) -> StoreResult<Vec<Beer>> {
                let (statement, values) = sql::list(query).build_sqlx(<$store as Dialect>::Builder::default());
                let rows: Vec<BeerRow> = sqlx::query_as_with(&statement, values)
                    .fetch_all(self.pool())
                    .await?;
                Ok(rows.into_iter().map(Beer::from).collect())
            }

            #[tracing::instrument(name = "store.count", skip_all)]
            async fn count(&self, filter: &BeerFilter) -> StoreResult<u64> {
                let (statement, values) = sql::count(filter).build_sqlx(<$store as Dialect>::Builder::default());
                let (count,): (i64,) = sqlx::query_as_with(&statement, values)
                    .fetch_one(self.pool())
                    .await?;
                Ok(u64::try_from(count).unwrap_or_default())
            }

            #[tracing::instrument(name = "store.list_json", skip_all)]
            async fn list_json(&self, query: &ListQuery, shape: JsonShape, image_base: &str) -> StoreResult<String> {
                let (statement, values) = sql::list_rendered(query).build_sqlx(<$store as Dialect>::Builder::default());
                let rows: Vec<RenderedRow> = sqlx::query_as_with(&statement, values)
                    .fetch_all(self.pool())
                    .await?;
                Ok(rendered::json_array(&rows, shape, image_base))
            }

            #[tracing::instrument(name = "store.get_json", skip_all)]
            async fn get_json(&self, id: i64, shape: JsonShape, image_base: &str) -> StoreResult<Option<String>> {
                let (statement, values) = sql::rendered_by_id(id).build_sqlx(<$store as Dialect>::Builder::default());
                let row: Option<RenderedRow> = sqlx::query_as_with(&statement, values)
                    .fetch_optional(self.pool())
                    .await?;
                Ok(row.map(|row| row.to_json(shape, image_base)))
            }

            #[tracing::instrument(name = "store.rendered_rows", skip_all)]
            async fn rendered_rows(&self, ids: &[i64]) -> StoreResult<Vec<RenderedRow>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let (statement, values) = sql::rendered_by_ids(ids).build_sqlx(<$store as Dialect>::Builder::default());
                Ok(sqlx::query_as_with(&statement, values).fetch_all(self.pool()).await?)
            }

            #[tracing::instrument(name = "store.get", skip_all)]
            async fn get(&self, id: i64) -> StoreResult<Option<Beer>> {
                let (statement, values) = sql::by_id(id).build_sqlx(<$store as Dialect>::Builder::default());
                let row: Option<BeerRow> = sqlx::query_as_with(&statement, values)
                    .fetch_optional(self.pool())
                    .await?;
                Ok(row.map(Beer::from))
            }

            #[tracing::instrument(name = "store.random", skip_all)]
            async fn random(&self) -> StoreResult<Option<Beer>> {
                let (statement, values) = sql::random().build_sqlx(<$store as Dialect>::Builder::default());
                let row: Option<BeerRow> = sqlx::query_as_with(&statement, values)
                    .fetch_optional(self.pool())
                    .await?;
                Ok(row.map(Beer::from))
            }

            #[tracing::instrument(name = "store.create", skip_all)]
            async fn create(&self, fields: &BeerFields) -> StoreResult<Beer> {
                let now = Utc::now().trunc_subsecs(6);
                let mut tx = self.pool().begin().await?;
                let (statement, values) =
                    sql::insert(None, fields, now).build_sqlx(<$store as Dialect>::Builder::default());
                let (id, created_at) = sqlx::query_as_with(&statement, values)
                    .fetch_one(&mut *tx)
                    .await?;
                Self::write_terms(&mut tx, id, fields).await?;
                tx.commit().await?;
                Ok(Beer {
                    id,
                    fields: fields.clone(),
                    created_at,
                    updated_at: now,
                    image: None,
                })
            }

            #[tracing::instrument(name = "store.update", skip_all)]
            async fn update(&self, id: i64, fields: &BeerFields) -> StoreResult<Option<Beer>> {
                let now = Utc::now().trunc_subsecs(6);
                let mut tx = self.pool().begin().await?;
                if <$store as Dialect>::LOCKS_BEER_BEFORE_WRITING {
                    // Every write to `beers` takes the catalog version's row lock (its statement trigger) until
                    // commit, so writers serialise on it, and under load each statement's round trip waits for a
                    // core: locking and reading the beer's row first, then its terms, and `beers` last holds that
                    // lock for one statement and the commit instead of four statements (measured: writes went from
                    // about 200/s to over 600/s beside a read load).
                    let (statement, values) = sql::by_id_for_update(id).build_sqlx(<$store as Dialect>::Builder::default());
                    let current: Option<BeerRow> = sqlx::query_as_with(&statement, values)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(current) = current.map(Beer::from) else {
                        return Ok(None);
                    };
                    Self::write_terms(&mut tx, id, fields).await?;
                    let (statement, values) = sql::update(id, fields, now).build_sqlx(<$store as Dialect>::Builder::default());
                    sqlx::query_with(&statement, values).execute(&mut *tx).await?;
                    tx.commit().await?;
                    // What reading it back would give: the row is locked, and a JSON write keeps the stored image.
                    return Ok(Some(Beer {
                        fields: fields.clone(),
                        updated_at: now,
                        ..current
                    }));
                }
                let (statement, values) =
                    sql::update(id, fields, now).build_sqlx(<$store as Dialect>::Builder::default());
                let updated: Option<(i64, chrono::DateTime<Utc>)> = sqlx::query_as_with(&statement, values)
                    .fetch_optional(&mut *tx)
                    .await?;
                if updated.is_none() {
                    return Ok(None);
                }
                Self::write_terms(&mut tx, id, fields).await?;
                // Read back: the stored image, which a JSON write keeps, is part of the answer.
                let beer = Self::beer_in(&mut tx, id).await?;
                tx.commit().await?;
                Ok(beer)
            }

            #[tracing::instrument(name = "store.delete", skip_all)]
            async fn delete(&self, id: i64) -> StoreResult<bool> {
                let (statement, values) = sql::delete(id).build_sqlx(<$store as Dialect>::Builder::default());
                let result = sqlx::query_with(&statement, values).execute(self.pool()).await?;
                let deleted = result.rows_affected() > 0;
                if deleted {
                    self.remove_orphan_images().await;
                }
                Ok(deleted)
            }

            #[tracing::instrument(name = "store.import", skip_all)]
            async fn import(
                &self,
                records: &[ImportRecord],
                progress: &(dyn Fn(usize) + Send + Sync),
            ) -> StoreResult<()> {
                let now = Utc::now().trunc_subsecs(6);
                let mut tx = self.pool().begin().await?;
                <$store as Dialect>::before_import(&mut tx).await?;
                let mut stored_images = std::collections::HashSet::new();
                let mut done = 0;
                if records.len() > BULK_WRITE {
                    <$store as Dialect>::start_bulk_write(&mut tx).await?;
                }
                for batch in records.chunks(IMPORT_BATCH) {
                    Self::write_batch(&mut tx, batch, now, &mut stored_images).await?;
                    done += batch.len();
                    progress(done);
                }
                <$store as Dialect>::after_import(&mut tx).await?;
                tx.commit().await?;
                if !stored_images.is_empty() {
                    self.remove_orphan_images().await;
                }
                Ok(())
            }

            #[tracing::instrument(name = "store.import_stream", skip_all)]
            async fn import_stream(
                &self,
                messages: &mut tokio::sync::mpsc::Receiver<ImportMessage>,
                progress: &(dyn Fn(usize) + Send + Sync),
            ) -> StoreResult<bool> {
                let now = Utc::now().trunc_subsecs(6);
                let mut tx = self.pool().begin().await?;
                <$store as Dialect>::before_import(&mut tx).await?;
                let mut stored_images = std::collections::HashSet::new();
                let mut done = 0;
                while let Some(message) = messages.recv().await {
                    match message {
                        ImportMessage::Batch(records) => {
                            if done <= BULK_WRITE && done + records.len() > BULK_WRITE {
                                <$store as Dialect>::start_bulk_write(&mut tx).await?;
                            }
                            Self::write_batch(&mut tx, &records, now, &mut stored_images).await?;
                            done += records.len();
                            progress(done);
                        }
                        ImportMessage::Commit => {
                            <$store as Dialect>::after_import(&mut tx).await?;
                            tx.commit().await?;
                            if !stored_images.is_empty() {
                                self.remove_orphan_images().await;
                            }
                            return Ok(true);
                        }
                    }
                }
                // Dropping the transaction rolls back everything this import wrote.
                Ok(false)
            }

            #[tracing::instrument(name = "store.set_image", skip_all)]
            async fn set_image(&self, beer_id: i64, image: &NewImage) -> StoreResult<Option<Beer>> {
                let now = Utc::now().trunc_subsecs(6);
                let mut tx = self.pool().begin().await?;
                Self::store_image(&mut tx, image, now).await?;
                let sha256 = image.meta.image.sha256.as_str();
                let (statement, values) = sql::set_beer_image(beer_id, Some(sha256), now).build_sqlx(<$store as Dialect>::Builder::default());
                let updated: Option<(i64,)> = sqlx::query_as_with(&statement, values)
                    .fetch_optional(&mut *tx)
                    .await?;
                if updated.is_none() {
                    // Dropping the transaction rolls the image back too.
                    return Ok(None);
                }
                let beer = Self::beer_in(&mut tx, beer_id).await?;
                tx.commit().await?;
                self.remove_orphan_images().await;
                Ok(beer)
            }

            #[tracing::instrument(name = "store.remove_image", skip_all)]
            async fn remove_image(&self, beer_id: i64) -> StoreResult<ImageRemoval> {
                let now = Utc::now().trunc_subsecs(6);
                let mut tx = self.pool().begin().await?;
                let Some(mut beer) = Self::beer_in(&mut tx, beer_id).await? else {
                    return Ok(ImageRemoval::NoSuchBeer);
                };
                if beer.image.is_none() && beer.fields.image_url.is_none() {
                    return Ok(ImageRemoval::NoImage);
                }
                beer.fields.image_url = None;
                let (statement, values) = sql::update(beer_id, &beer.fields, now).build_sqlx(<$store as Dialect>::Builder::default());
                sqlx::query_with(&statement, values).execute(&mut *tx).await?;
                let (statement, values) = sql::set_beer_image(beer_id, None, now).build_sqlx(<$store as Dialect>::Builder::default());
                sqlx::query_with(&statement, values).execute(&mut *tx).await?;
                tx.commit().await?;
                if beer.image.is_some() {
                    self.remove_orphan_images().await;
                }
                Ok(ImageRemoval::Removed)
            }

            #[tracing::instrument(name = "store.image_meta", skip_all)]
            async fn image_meta(&self, sha256: &str) -> StoreResult<Option<ImageMeta>> {
                let (statement, values) = sql::image_by_sha256(sha256, false).build_sqlx(<$store as Dialect>::Builder::default());
                let row: Option<ImageMetaRow> = sqlx::query_as_with(&statement, values)
                    .fetch_optional(self.pool())
                    .await?;
                Ok(row.and_then(ImageMetaRow::into_meta))
            }

            #[tracing::instrument(name = "store.image", skip_all)]
            async fn image(&self, sha256: &str) -> StoreResult<Option<StoredImage>> {
                let (statement, values) = sql::image_by_sha256(sha256, true).build_sqlx(<$store as Dialect>::Builder::default());
                let row = sqlx::query_with(&statement, values).fetch_optional(self.pool()).await?;
                let Some(row) = row else { return Ok(None) };
                let bytes: Vec<u8> = sqlx::Row::try_get(&row, "content")?;
                let meta = ImageMetaRow::from_row(&row)?.into_meta();
                Ok(meta.map(|meta| StoredImage { meta, bytes }))
            }

            #[tracing::instrument(name = "store.has_images", skip_all)]
            async fn has_images(&self) -> StoreResult<bool> {
                let (statement, values) = sql::any_image().build_sqlx(<$store as Dialect>::Builder::default());
                let row = sqlx::query_with(&statement, values).fetch_optional(self.pool()).await?;
                Ok(row.is_some())
            }

            async fn close(&self) {
                self.pool().close().await;
            }

            async fn catalog_version(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar(sql::CATALOG_VERSION)
                    .fetch_one(self.pool())
                    .await?)
            }

            #[tracing::instrument(name = "store.load_index", skip_all)]
            async fn load_index(&self) -> StoreResult<CatalogIndex> {
                let mut builder = IndexBuilder::new(0);
                let version = <$store as Dialect>::load_index_rows(self, &mut builder).await?;
                Ok(builder.finish_at(version))
            }

            #[tracing::instrument(name = "store.load_index_changes", skip_all)]
            async fn load_index_changes(&self, since: i64, limit: usize) -> StoreResult<Option<IndexChanges>> {
                let mut tx = self.pool().begin().await?;
                <$store as Dialect>::snapshot(&mut tx).await?;
                let (version, changes_from): (i64, i64) = sqlx::query_as(sql::CATALOG_CHANGES_FROM)
                    .fetch_one(&mut *tx)
                    .await?;
                if since < changes_from || version < since {
                    return Ok(None);
                }
                let mut ids: Vec<i64> = Vec::new();
                if version > since {
                    // One more than allowed tells "too many" from "exactly the limit".
                    let most = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
                    ids = sqlx::query_scalar(sql::CHANGED_IDS)
                        .bind(since)
                        .bind(version)
                        .bind(most)
                        .fetch_all(&mut *tx)
                        .await?;
                    if ids.len() > limit {
                        return Ok(None);
                    }
                }
                let mut builder = IndexBuilder::new(version);
                for chunk in ids.chunks(CHANGED_PER_STATEMENT) {
                    use futures_util::TryStreamExt;
                    let query = sql::index_rows_of_ids(<$store as Dialect>::INDEX_ROWS_UNORDERED, chunk);
                    // A list of ids is not worth a prepared statement.
                    let mut rows = sqlx::query(&query).persistent(false).fetch(&mut *tx);
                    while let Some(row) = rows.try_next().await? {
                        builder.push_beer(&index_row!(&row, row.try_get(11)?, row.try_get(12)?, row.try_get(13)?));
                    }
                }
                let current = builder.finish_at(version);
                tx.commit().await?;
                Ok(Some(IndexChanges { version, ids, current }))
            }

            #[tracing::instrument(name = "store.get_many", skip_all)]
            async fn get_many(&self, ids: &[i64]) -> StoreResult<Vec<Beer>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let (statement, values) = sql::by_ids(ids).build_sqlx(<$store as Dialect>::Builder::default());
                let rows: Vec<BeerRow> = sqlx::query_as_with(&statement, values)
                    .fetch_all(self.pool())
                    .await?;
                Ok(rows.into_iter().map(Beer::from).collect())
            }

            async fn change_feed(&self) -> StoreResult<Box<dyn ChangeFeed>> {
                <$store as Dialect>::change_feed(self).await
            }

            async fn change_listener(&self) -> StoreResult<Option<Box<dyn ChangeListener>>> {
                <$store as Dialect>::change_listener(self).await
            }
        }

        impl $store {
            /// Writes import records inside `tx`: those with an id and no image in bulk (the ids not in the
            /// catalog yet through the backend's fast path, the others as multi-row upserts), the others one by
            /// one, as they need the id the database assigns or an image stored first.
            async fn write_batch(
                tx: &mut sqlx::Transaction<'_, <$store as Dialect>::Database>,
                records: &[ImportRecord],
                now: chrono::DateTime<Utc>,
                stored_images: &mut std::collections::HashSet<String>,
            ) -> StoreResult<()> {
                let builder = <$store as Dialect>::Builder::default;
                let bulk: Vec<(i64, &BeerFields)> = records
                    .iter()
                    .filter(|r| r.image.is_none())
                    .filter_map(|r| r.id.map(|id| (id, &r.fields)))
                    .collect();
                if !bulk.is_empty() {
                    let ids: Vec<i64> = bulk.iter().map(|(id, _)| *id).collect();
                    let existing: std::collections::HashSet<i64> =
                        <$store as Dialect>::existing_ids(tx, &ids).await?.into_iter().collect();
                    let (present, fresh): (Vec<_>, Vec<_>) =
                        bulk.into_iter().partition(|(id, _)| existing.contains(id));
                    <$store as Dialect>::insert_new(tx, &fresh, now).await?;
                    for upserts in present.chunks(IMPORT_BATCH) {
                        let (statement, values) = sql::insert_many(upserts, now).build_sqlx(builder());
                        sqlx::query_with(&statement, values).execute(&mut **tx).await?;
                        let ids: Vec<i64> = upserts.iter().map(|(id, _)| *id).collect();
                        let (statement, values) = sql::delete_terms_many(&ids).build_sqlx(builder());
                        sqlx::query_with(&statement, values).execute(&mut **tx).await?;
                        for insert in sql::insert_terms_many(upserts, TERMS_PER_STATEMENT) {
                            let (statement, values) = insert.build_sqlx(builder());
                            sqlx::query_with(&statement, values).execute(&mut **tx).await?;
                        }
                    }
                }
                let mut numbering = false;
                for record in records.iter().filter(|r| r.image.is_some() || r.id.is_none()) {
                    if record.id.is_none() && !numbering {
                        // The ids the database assigns from here must pass the ones this import wrote explicitly,
                        // which PostgreSQL's identity sequence has not seen (a collision would be an upsert).
                        <$store as Dialect>::after_import(tx).await?;
                        numbering = true;
                    }
                    let (statement, values) = sql::insert(record.id, &record.fields, now).build_sqlx(builder());
                    let (id, _created_at): (i64, chrono::DateTime<Utc>) =
                        sqlx::query_as_with(&statement, values).fetch_one(&mut **tx).await?;
                    Self::write_terms(tx, id, &record.fields).await?;
                    if let Some(image) = &record.image {
                        let sha256 = image.meta.image.sha256.as_str();
                        // Each distinct image is sent to the database once, however many beers use it.
                        if stored_images.insert(sha256.to_owned()) {
                            Self::store_image(tx, image, now).await?;
                        }
                        let (statement, values) = sql::set_beer_image(id, Some(sha256), now).build_sqlx(builder());
                        sqlx::query_with(&statement, values).execute(&mut **tx).await?;
                    }
                }
                Ok(())
            }

            /// A beer as read inside a transaction (with its image's key).
            async fn beer_in(
                tx: &mut sqlx::Transaction<'_, <$store as Dialect>::Database>,
                id: i64,
            ) -> StoreResult<Option<Beer>> {
                let (statement, values) = sql::by_id(id).build_sqlx(<$store as Dialect>::Builder::default());
                let row: Option<BeerRow> = sqlx::query_as_with(&statement, values)
                    .fetch_optional(&mut **tx)
                    .await?;
                Ok(row.map(Beer::from))
            }

            async fn store_image(
                tx: &mut sqlx::Transaction<'_, <$store as Dialect>::Database>,
                image: &NewImage,
                now: chrono::DateTime<Utc>,
            ) -> StoreResult<()> {
                let (statement, values) = sql::insert_image(image, now).build_sqlx(<$store as Dialect>::Builder::default());
                sqlx::query_with(&statement, values).execute(&mut **tx).await?;
                Ok(())
            }

            /// Deletes the images no beer refers to any more. Runs after the change that orphaned them has
            /// committed, and only tidies: when a concurrent write has just pointed a beer at one of them, the
            /// foreign key stops the delete, the image rightly stays, and a later sweep takes the rest. So a
            /// failure here is logged, never returned to a client whose own write succeeded.
            async fn remove_orphan_images(&self) {
                let (statement, values) = sql::remove_orphan_images().build_sqlx(<$store as Dialect>::Builder::default());
                match sqlx::query_with(&statement, values).execute(self.pool()).await {
                    Ok(result) if result.rows_affected() > 0 => {
                        tracing::debug!(removed = result.rows_affected(), "removed images no beer uses")
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "could not remove unused images; a later write retries"),
                }
            }

            /// Replaces the searchable hop, malt and food rows of a beer.
            async fn write_terms(
                tx: &mut sqlx::Transaction<'_, <$store as Dialect>::Database>,
                id: i64,
                fields: &BeerFields,
            ) -> StoreResult<()> {
                let (statement, values) = sql::delete_terms(id).build_sqlx(<$store as Dialect>::Builder::default());
                sqlx::query_with(&statement, values).execute(&mut **tx).await?;
                if let Some(insert) = sql::insert_terms(id, fields) {
                    let (statement, values) = insert.build_sqlx(<$store as Dialect>::Builder::default());
                    sqlx::query_with(&statement, values).execute(&mut **tx).await?;
                }
                Ok(())
            }
        }
    };
}

impl_beer_store!(SqliteStore);
impl_beer_store!(PostgresStore);
