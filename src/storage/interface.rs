//! What the service asks of a database, split by role, so that each layer of the stack ([`super::stack`])
//! implements only the role it changes:
//!
//! - [`CatalogReads`]: what answering a GET needs (beers, pages, counts, images);
//! - [`CatalogWrites`]: what changes the catalog;
//! - [`ChangeSource`]: the catalog version (the change signal) and what a read model is built and patched from;
//! - [`Administration`]: migrations, the readiness ping, closing the pools.
//!
//! A backend ([`super::backend`]) does all four: [`Database`]. [`ReadDatabase`] is the side reads are served from
//! (a replica, or the primary): its reads and the change source they are checked against.

use std::sync::Arc;

use async_trait::async_trait;

use super::change_signal::{VersionListener, VersionReader};
use super::read_model::{BuildProgress, CatalogIndex, IndexChanges};
use super::rendered::JsonShape;
use super::sql::RenderedRow;
use super::{Backend, StoreResult};
use crate::domain::{
    Beer, BeerFields, BeerFilter, ImageMeta, IngredientKind, IngredientName, ListQuery, NewImage, Rendition,
};
use crate::observability::Metrics;

/// A beer to write during an import, with the id it must keep when it has one, and the label image loaded for
/// it (shared: one file may serve many beers, and is stored once).
#[derive(Clone, Debug)]
pub struct ImportRecord {
    pub id: Option<i64>,
    pub fields: BeerFields,
    pub image: Option<Arc<NewImage>>,
}

/// What an import's reader sends its writer ([`CatalogWrites::import_stream`]).
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

/// A stored rendition of an image, as served.
#[derive(Clone, Debug)]
pub struct StoredRendition {
    /// The SHA-256 of its bytes (its validator).
    pub sha256: String,
    /// WebP.
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

/// Every stored image's name at one catalog version ([`ChangeSource::load_image_names`]).
#[derive(Debug, Default)]
pub struct ImageNames {
    pub version: i64,
    pub sha256: Vec<String>,
}

/// Reading the catalog.
#[async_trait]
pub trait CatalogReads: Send + Sync + 'static {
    /// One page of beers matching the filter, by ascending id.
    async fn list(&self, query: &ListQuery) -> StoreResult<Vec<Beer>>;
    async fn count(&self, filter: &BeerFilter) -> StoreResult<u64>;
    /// Every `kind` name (hop, malt, yeast, food pairing) used by the beers matching `filter`, with how many use
    /// it, spelling variants merged ([`crate::domain::ingredient_names`]); in no particular order.
    async fn ingredient_names(&self, kind: IngredientKind, filter: &BeerFilter) -> StoreResult<Vec<IngredientName>>;
    /// One page as a JSON array in `shape`, assembled from each beer's stored rendering: the read path, which
    /// never decodes a document. Stored images are linked under `image_base` (see [`super::rendered`]).
    async fn list_json(&self, query: &ListQuery, shape: JsonShape, image_base: &str) -> StoreResult<String>;
    /// One beer as a JSON object in `shape`, from its stored rendering.
    async fn get_json(&self, id: i64, shape: JsonShape, image_base: &str) -> StoreResult<Option<String>>;
    /// The stored renderings of the beers with these ids that exist, by ascending id (what
    /// [`CatalogReads::list_json`] assembles answers from; the read model caches them).
    async fn rendered_rows(&self, ids: &[i64]) -> StoreResult<Vec<RenderedRow>>;
    async fn get(&self, id: i64) -> StoreResult<Option<Beer>>;
    /// The beers with these ids that exist, by ascending id.
    async fn get_many(&self, ids: &[i64]) -> StoreResult<Vec<Beer>>;
    async fn random(&self) -> StoreResult<Option<Beer>>;
    /// An image's type, size and length, without its bytes (HEAD, conditional GET).
    async fn image_meta(&self, sha256: &str) -> StoreResult<Option<ImageMeta>>;
    async fn image(&self, sha256: &str) -> StoreResult<Option<StoredImage>>;
    /// The rendition of the image `sha256` at a nominal width (one of `RENDITION_WIDTHS`), when stored.
    async fn image_rendition(&self, sha256: &str, width: u32) -> StoreResult<Option<StoredRendition>>;
    /// Whether the catalog holds any image (production then needs PUBLIC_BASE_URL).
    async fn has_images(&self) -> StoreResult<bool>;
}

/// Changing the catalog.
#[async_trait]
pub trait CatalogWrites: Send + Sync + 'static {
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
    /// Stores renditions of the stored image `image_sha256` made after it was stored (images stored before
    /// renditions existed), keeping any already there; nothing when the image is gone. Not a catalog change: no
    /// answer of the API shows renditions, so the catalog version does not move.
    async fn store_renditions(&self, image_sha256: &str, renditions: &[Rendition]) -> StoreResult<()>;
}

/// The catalog's change signal and what a read model is built from.
#[async_trait]
pub trait ChangeSource: Send + Sync + 'static {
    /// The catalog's version, bumped by the database on every write to the catalog (`catalog_version`).
    async fn catalog_version(&self) -> StoreResult<i64>;
    /// Every beer's filterable fields, read in one snapshot together with the version they are at.
    async fn load_index(&self) -> StoreResult<CatalogIndex> {
        self.load_index_with_progress(&Arc::new(BuildProgress::new())).await
    }
    /// [`ChangeSource::load_index`], counting the beers read into `progress` as it goes (the warm-up's `/ready`).
    async fn load_index_with_progress(&self, progress: &Arc<BuildProgress>) -> StoreResult<CatalogIndex>;
    /// What changed since version `since`, read in one snapshot from the change log (`catalog_changes`): the
    /// changed beers' ids and the current fields of those that exist, for patching an index at `since` into one at
    /// the current version. `None` when a full [`ChangeSource::load_index`] is needed instead: the log no longer
    /// (or never) covered `since`, a bulk write was not logged row by row, more than `limit` beers changed, or the
    /// database is behind `since` (a replica catching up).
    async fn load_index_changes(&self, since: i64, limit: usize) -> StoreResult<Option<IndexChanges>>;
    /// The name (SHA-256) of every stored image, read in one snapshot together with the catalog version: what lets
    /// [`super::known_images`] answer an unknown image name without a round trip.
    async fn load_image_names(&self) -> StoreResult<ImageNames>;
    /// A reader of the catalog version over a connection of its own (see [`super::change_signal`]).
    async fn version_reader(&self) -> StoreResult<Box<dyn VersionReader>>;
    /// Change notifications as writes commit, when the backend pushes them (PostgreSQL `LISTEN`).
    async fn version_listener(&self) -> StoreResult<Option<Box<dyn VersionListener>>> {
        Ok(None)
    }
    /// Whether the database server's address accepts a TCP connection now, within a second: how the version
    /// follower tells a database that is resuming (it accepts the connection but is slow to answer, as Aurora
    /// Serverless v2 waking from a pause) from one that is down (refused, unreachable). `None` for a database
    /// without a network address (SQLite).
    async fn accepts_tcp(&self) -> Option<std::io::Result<()>> {
        None
    }
}

/// Looking after the database itself.
#[async_trait]
pub trait Administration: Send + Sync + 'static {
    fn backend(&self) -> Backend;
    /// Applies the embedded migrations for this backend.
    async fn migrate(&self) -> StoreResult<()>;
    /// A round trip to the database, for readiness.
    async fn ping(&self) -> StoreResult<()>;
    async fn close(&self);
    /// Records every call's duration and failures, and the pool's connections, into `metrics`, the pool labelled
    /// `pool` (`primary`, `replica`); the server's stack calls it once per backend.
    fn record_into(&self, metrics: &Metrics, pool: &'static str);
}

/// Where reads are served from: the catalog's reads and the change source they are checked against.
pub trait ReadDatabase: CatalogReads + ChangeSource {}
impl<T: CatalogReads + ChangeSource + ?Sized> ReadDatabase for T {}

/// One database, every role: what a backend is.
pub trait Database: ReadDatabase + CatalogWrites + Administration {}
impl<T: ReadDatabase + CatalogWrites + Administration + ?Sized> Database for T {}

pub type DynDatabase = Arc<dyn Database>;
