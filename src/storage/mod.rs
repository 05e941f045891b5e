//! Storage: one interface ([`BeerStore`]), two backends (SQLite embedded, PostgreSQL in production), chosen by the
//! database URL's scheme. The SQL is written once in [`sql`]; each backend only supplies its pool, its migrations
//! and its query builder.

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::{Beer, BeerFields, BeerFilter, ImageMeta, ListQuery, NewImage};

mod backends;
mod bulk;
pub mod change_feed;
mod documents;
mod indexed;
pub mod read_model;
pub mod rendered;
pub mod replicated;
mod settings;
pub mod sql;
pub mod watch;

pub use backends::{PostgresStore, SqliteStore};
pub use change_feed::{ChangeFeed, ChangeListener};
pub use indexed::{IndexedStore, Refreshes, patch_limit};
pub use read_model::{CatalogIndex, IndexChanges};
pub use rendered::JsonShape;
pub use replicated::{ReplicaStatus, ReplicatedStore};
pub use settings::{Backend, DatabaseUrl, DatabaseUrlError, PostgresParts, StoreOptions};
pub use sql::RenderedRow;

/// A beer to write during an import, with the id it must keep when it has one, and the label image loaded for
/// it (shared: one file may serve many beers, and is stored once).
#[derive(Clone, Debug)]
pub struct ImportRecord {
    pub id: Option<i64>,
    pub fields: BeerFields,
    pub image: Option<Arc<NewImage>>,
}

/// What an import's reader sends its writer ([`BeerStore::import_stream`]).
#[derive(Debug)]
pub enum ImportMessage {
    /// Records to write, in file order.
    Batch(Vec<ImportRecord>),
    /// Everything is written: commit. A stream that ends without it (the reader failed, found records it must not
    /// write, or was interrupted) is rolled back.
    Commit,
}

/// An image with its bytes, as served.
#[derive(Clone, Debug)]
pub struct StoredImage {
    pub meta: ImageMeta,
    pub bytes: Vec<u8>,
}

/// What removing a beer's image found.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ImageRemoval {
    Removed,
    NoSuchBeer,
    /// The beer has neither a stored image nor an `image_url`.
    NoImage,
}

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

/// Everything the service asks of a database.
#[async_trait]
pub trait BeerStore: Send + Sync + 'static {
    fn backend(&self) -> Backend;
    /// Applies the embedded migrations for this backend.
    async fn migrate(&self) -> StoreResult<()>;
    /// A round trip to the database, for readiness.
    async fn ping(&self) -> StoreResult<()>;
    /// One page of beers matching the filter, by ascending id.
    async fn list(&self, query: &ListQuery) -> StoreResult<Vec<Beer>>;
    async fn count(&self, filter: &BeerFilter) -> StoreResult<u64>;
    /// One page as a JSON array in `shape`, assembled from each beer's stored rendering: the read path, which
    /// never decodes a document. Stored images are linked under `image_base` (see [`rendered`]).
    async fn list_json(&self, query: &ListQuery, shape: JsonShape, image_base: &str) -> StoreResult<String>;
    /// One beer as a JSON object in `shape`, from its stored rendering.
    async fn get_json(&self, id: i64, shape: JsonShape, image_base: &str) -> StoreResult<Option<String>>;
    /// The stored renderings of the beers with these ids that exist, by ascending id (what [`BeerStore::list_json`]
    /// assembles answers from; the read model keeps copies of them).
    async fn rendered_rows(&self, ids: &[i64]) -> StoreResult<Vec<RenderedRow>>;
    async fn get(&self, id: i64) -> StoreResult<Option<Beer>>;
    async fn random(&self) -> StoreResult<Option<Beer>>;
    async fn create(&self, fields: &BeerFields) -> StoreResult<Beer>;
    /// Replaces a beer; `None` when there is no such id.
    async fn update(&self, id: i64, fields: &BeerFields) -> StoreResult<Option<Beer>>;
    /// `false` when there was no such id.
    async fn delete(&self, id: i64) -> StoreResult<bool>;
    /// Writes every record in one transaction (all or nothing), calling `progress` with the count written so far.
    /// An upsert keeps the stored image of an existing beer unless the record brings one.
    async fn import(&self, records: &[ImportRecord], progress: &(dyn Fn(usize) + Send + Sync)) -> StoreResult<()>;
    /// Writes the batches `messages` brings in one transaction, many rows a statement, calling `progress` with the
    /// count written so far; commits on [`ImportMessage::Commit`] (`Ok(true)`), rolls back when the stream ends
    /// without it (`Ok(false)`) or on an error. Memory stays bounded by the batches in flight.
    async fn import_stream(
        &self,
        messages: &mut tokio::sync::mpsc::Receiver<ImportMessage>,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> StoreResult<bool>;
    /// Stores the image (once per content) and makes it the beer's; `None` when there is no such beer. The image
    /// it replaces is removed when no other beer uses it.
    async fn set_image(&self, beer_id: i64, image: &NewImage) -> StoreResult<Option<Beer>>;
    /// Leaves the beer without an image: no stored image and `image_url` null.
    async fn remove_image(&self, beer_id: i64) -> StoreResult<ImageRemoval>;
    /// An image's type, size and length, without its bytes (HEAD, conditional GET).
    async fn image_meta(&self, sha256: &str) -> StoreResult<Option<ImageMeta>>;
    async fn image(&self, sha256: &str) -> StoreResult<Option<StoredImage>>;
    /// Whether the catalog holds any image (production then needs PUBLIC_BASE_URL).
    async fn has_images(&self) -> StoreResult<bool>;
    /// The read replica's state, when reads are served by one ([`ReplicatedStore`]).
    fn read_replica(&self) -> Option<ReplicaStatus> {
        None
    }
    async fn close(&self);
    /// The catalog's change counter, bumped by the database on every write to the catalog (`catalog_version`).
    async fn catalog_version(&self) -> StoreResult<i64>;
    /// Every beer's filterable fields, read in one snapshot together with the version they are at.
    async fn load_index(&self) -> StoreResult<CatalogIndex>;
    /// What changed since version `since`, read in one snapshot from the change log (`catalog_changes`): the
    /// changed beers' ids and the current fields of those that exist, for patching an index at `since` into one at
    /// the current version. `None` when a full [`BeerStore::load_index`] is needed instead: the log no longer (or
    /// never) covered `since`, a bulk write was not logged row by row, more than `limit` beers changed, or the
    /// database is behind `since` (a replica catching up).
    async fn load_index_changes(&self, since: i64, limit: usize) -> StoreResult<Option<IndexChanges>>;
    /// The beers with these ids that exist, by ascending id.
    async fn get_many(&self, ids: &[i64]) -> StoreResult<Vec<Beer>>;
    /// The catalog's change signal (a version moved by triggers on every write, by any writer), read over a
    /// connection of its own; see [`watch`].
    async fn change_feed(&self) -> StoreResult<Box<dyn ChangeFeed>>;
    /// Change notifications as writes commit, when the backend pushes them (PostgreSQL `LISTEN`).
    async fn change_listener(&self) -> StoreResult<Option<Box<dyn ChangeListener>>> {
        Ok(None)
    }
}

pub type DynStore = Arc<dyn BeerStore>;

/// Why a store could not be opened; the message names the host and port (never the password).
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to {backend} database at {target}")]
pub struct ConnectError {
    pub backend: Backend,
    pub target: String,
    #[source]
    pub source: sqlx::Error,
}

/// Opens the store a database URL names (`sqlite:` or `postgres:`/`postgresql:`), waiting at most
/// `connect_timeout` for the first connection, so start-up fails fast and clearly instead of hanging.
pub async fn connect(url: &DatabaseUrl, options: &StoreOptions) -> Result<DynStore, ConnectError> {
    match url.backend() {
        Backend::Sqlite => Ok(Arc::new(SqliteStore::connect(url, options).await?)),
        Backend::Postgres => Ok(Arc::new(PostgresStore::connect(url, options).await?)),
    }
}
