//! PostgreSQL, production (RDS): a pool per process, `COPY` for imports, `LISTEN` for change notifications.

use std::str::FromStr;

use chrono::Utc;
use sea_query::PostgresQueryBuilder;
use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgPool, PgQueryResult};

use super::driver::{DecodesIndexRow, Runs, Statement};
use super::observer::Observer;
use super::version_signal::{DedicatedVersionReader, PostgresVersionListener};
use super::{Dialect, PostgresStore, bulk, connect_error, open};
use crate::domain::BeerFields;
use crate::storage::change_signal::{VersionListener, VersionReader};
use crate::storage::read_model::IndexBuilder;
use crate::storage::sql;
use crate::storage::{Backend, ConnectError, DatabaseUrl, StoreOptions, StoreResult};

impl PostgresStore {
    pub async fn connect(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, ConnectError> {
        Ok(Self {
            pool: open(url, options, Self::connect_options(url)?).await?,
            observer: Observer::default(),
        })
    }

    /// A store whose pool connects on first use: for a read replica, which may be down when the service starts
    /// without that stopping it (reads then go to the primary). Fails only on a malformed target.
    pub fn connect_lazy(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, ConnectError> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.connect_timeout)
            .connect_lazy_with(Self::connect_options(url)?);
        Ok(Self {
            pool,
            observer: Observer::default(),
        })
    }

    /// The driver's options for `url` (the replica monitor opens its own connections with them).
    pub(crate) fn connect_options(url: &DatabaseUrl) -> Result<PgConnectOptions, ConnectError> {
        Ok(match url.postgres_options() {
            Some(options) => options.clone(),
            None => PgConnectOptions::from_str(url.expose()).map_err(|e| connect_error(url, e))?,
        }
        .application_name("beer-catalog"))
    }
}

impl Dialect for Postgres {
    type Builder = PostgresQueryBuilder;
    const BACKEND: Backend = Backend::Postgres;
    const INDEX_ROWS_UNORDERED: &'static str = sql::INDEX_ROWS_POSTGRES_UNORDERED;
    // One round trip instead of six, and the version lock held for one statement (see `sql::one_statement`).
    const WRITES_BEER_IN_ONE_STATEMENT: bool = true;

    fn migrator() -> sqlx::migrate::Migrator {
        sqlx::migrate!("./migrations/postgres")
    }

    fn tcp_address(pool: &sqlx::Pool<Self>) -> Option<(String, u16)> {
        let options = pool.connect_options();
        let host = options.get_host();
        // A host starting with '/' is a Unix socket directory: nothing to probe over TCP.
        (!host.starts_with('/')).then(|| (host.to_owned(), options.get_port()))
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    /// Documents and renderings are TOASTed (a beer's row is above 2 kB): LZ4 compresses them several times
    /// faster than the default pglz, and reads decompress either. Only this transaction's writes are affected;
    /// a server built without LZ4 keeps its default.
    async fn before_import(tx: &mut sqlx::Transaction<'_, Postgres>) -> StoreResult<()> {
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
    /// the next `POST /beers` does not collide. The next id is the one SQLite's AUTOINCREMENT would give, so both
    /// backends number alike: 1 in an empty catalog (`is_called = false` hands out the value set, not the one
    /// after it), otherwise one past both the largest id stored and the largest ever handed out (a deleted beer's
    /// id is never reused).
    async fn after_import(tx: &mut sqlx::Transaction<'_, Postgres>) -> StoreResult<()> {
        sqlx::query(
            "SELECT setval(sequence, GREATEST(COALESCE((SELECT MAX(id) FROM beers), 0), \
             COALESCE(pg_sequence_last_value(sequence), 0)) + 1, false) \
             FROM CAST(pg_get_serial_sequence('beers', 'id') AS regclass) AS sequence",
        )
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn existing_ids(tx: &mut sqlx::Transaction<'_, Postgres>, ids: &[i64]) -> StoreResult<Vec<i64>> {
        bulk::existing_ids_postgres(tx, ids).await
    }

    async fn insert_new(
        tx: &mut sqlx::Transaction<'_, Postgres>,
        beers: &[(i64, &BeerFields)],
        now: chrono::DateTime<Utc>,
    ) -> StoreResult<()> {
        bulk::copy_new_beers(tx, beers, now).await
    }

    /// Transaction-local: the statement trigger then moves the log's start to each statement's version, and the
    /// row trigger's WHEN skips every row.
    async fn start_bulk_write(tx: &mut sqlx::Transaction<'_, Postgres>) -> StoreResult<()> {
        sqlx::query("SELECT set_config('beer_catalog.changes_logged', 'off', true)")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn snapshot(tx: &mut sqlx::Transaction<'_, Postgres>) -> StoreResult<()> {
        // READ COMMITTED would give each statement its own snapshot: the beers and their terms must agree.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn version_reader(pool: &PgPool) -> StoreResult<Box<dyn VersionReader>> {
        Ok(Box::new(
            DedicatedVersionReader::<sqlx::PgConnection>::open(pool).await?,
        ))
    }

    async fn version_listener(pool: &PgPool) -> StoreResult<Option<Box<dyn VersionListener>>> {
        Ok(Some(Box::new(PostgresVersionListener::open(pool).await?)))
    }

    /// Two connections in one snapshot (exported by the first): the beers on one, their terms (aggregated per
    /// beer) on the other, merged by id here. The database then reads both tables at once, on two cores, instead
    /// of one after the other; with no connection to spare, one query joins them (LATERAL).
    async fn load_index_rows(pool: &PgPool, builder: &mut IndexBuilder) -> StoreResult<i64> {
        use futures_util::TryStreamExt;
        use sqlx::{Connection, Row};
        let mut tx = pool.begin().await?;
        Self::snapshot(&mut tx).await?;
        // A connection the pool has or can open now; a busy pool's is not waited for long.
        let second = tokio::time::timeout(std::time::Duration::from_millis(500), pool.acquire()).await;
        let Ok(Ok(mut second)) = second else {
            let version: i64 = sqlx::query_scalar(sql::CATALOG_VERSION).fetch_one(&mut *tx).await?;
            Self::push_index_rows(&mut tx, Statement::fixed(sql::INDEX_ROWS_POSTGRES), builder).await?;
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
                builder.push_beer(&row.index_row_with(kind(1)?, kind(2)?, kind(3)?)?);
            }
        }
        terms_tx.commit().await?;
        tx.commit().await?;
        Ok(version)
    }
}
