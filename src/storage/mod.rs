//! Storage: one interface, split by role ([`interface`]), two backends (SQLite embedded, PostgreSQL in production)
//! chosen by the database URL's scheme ([`backend`]), and the layers the server puts over them, assembled in one
//! place ([`stack::open`]):
//!
//! ```text
//!   HTTP handlers ── Catalog (stack.rs) ─┬─ reads ──► known images ──► read model ──► outage guard ──► replica router ─┬─► primary
//!                                        │            (image names)     (memory)      (fail fast)        (lag, fallback) └─► replica
//!                                        ├─ writes ──────────────────────────────────► outage guard ───────────────────────► primary
//!                                        └─ freshness ◄── version follower (polls / listens to the change signal)
//! ```
//!
//! | layer | module | adds |
//! | --- | --- | --- |
//! | backend | [`backend`] | the SQL, once for both databases; the change signal's readers |
//! | replica router | [`replica`] | catalog reads on a read replica while it is healthy and within the lag bound |
//! | outage guard | [`outage_guard`] | fails at once while the database is known to be down; confirms the version after a write |
//! | read model | [`read_model`] | lists, counts, sorts and random answered in memory; cached rendered rows |
//! | known images | [`known_images`] | an image name the catalog does not hold answered without a round trip |
//! | freshness | [`freshness`], [`change_signal`] | the catalog version, read in the background, that caches check against |
//! | change feed | [`change_feed`], [`dependencies`] | which beers each version step changed (from the read model's patches), so caches keep what a write cannot change |
//!
//! Data jobs (`migrate`, `seed`, `import`) use a backend alone ([`connect`]); the server uses the whole stack.

use std::sync::Arc;

pub mod backend;
pub mod change_feed;
pub mod change_signal;
pub mod dependencies;
mod error;
pub mod freshness;
pub mod interface;
pub mod known_images;
pub mod outage_guard;
pub mod read_model;
pub mod read_preference;
pub mod rendered;
pub mod replica;
mod settings;
pub mod sql;
pub mod stack;

pub use backend::{PostgresStore, SqliteStore};
pub use change_feed::{ChangeFeed, Position};
pub use dependencies::{Dependencies, Dependency};
pub use error::{ConnectError, StoreError, StoreResult};
pub use freshness::{Availability, Freshness};
pub use interface::{
    Administration, CatalogReads, CatalogWrites, ChangeSource, Database, DynDatabase, ImageNames, ImageRemoval,
    ImportMessage, ImportRecord, ReadDatabase, StoredImage, StoredRendition,
};
pub use read_model::{
    BuildProgress, CatalogIndex, GaveUp, IndexChanges, ReadModel, RefreshCounts, Warmth, WarmupHold, WarmupSettings,
    patch_limit,
};
pub use rendered::JsonShape;
pub use replica::ReplicaStatus;
pub use settings::{Backend, DatabaseUrl, DatabaseUrlError, PostgresParts, StoreOptions};
pub use sql::RenderedRow;
pub use stack::{Catalog, ReadModelSettings, ReplicaSettings, StackSettings, open};

/// Opens the backend a database URL names (`sqlite:` or `postgres:`/`postgresql:`), waiting at most
/// `connect_timeout` for the first connection, so start-up fails fast and clearly instead of hanging.
pub async fn connect(url: &DatabaseUrl, options: &StoreOptions) -> Result<DynDatabase, ConnectError> {
    match url.backend() {
        Backend::Sqlite => Ok(Arc::new(SqliteStore::connect(url, options).await?)),
        Backend::Postgres => Ok(Arc::new(PostgresStore::connect(url, options).await?)),
    }
}
