//! Catalog reads from a PostgreSQL read replica. [`ReplicaRouter`] implements the read side ([`ReadDatabase`]) over
//! two databases, so the backends know nothing of replication; writes, migrations and the readiness ping never
//! come here (the stack sends them to the primary: `/ready` answers for the primary, the service is ready while
//! the primary serves, whatever the replica does):
//! - catalog reads go to the replica while it is healthy, and to the primary while it is not;
//! - reads made while handling a write (see [`read_preference`]) go to the primary, so a write's response never
//!   shows the replica's older state;
//! - a read that fails on the replica is retried once on the primary, so a replica outage costs no errors while
//!   the primary serves; a connection-class failure also switches reads to the primary at once.
//!
//! The [`monitor`] decides whether the replica is healthy; each switch between "in use" and "fallback" is logged
//! once and counted in [`ReplicaHealth`], and [`ReplicaStatus`] reports both (it is shown in `/ready`).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;

mod health;
pub mod monitor;
#[cfg(test)]
mod tests;
mod version_reader;

pub use health::{ReplicaHealth, ReplicaStatus};
use version_reader::ReplicaVersionReader;

use super::change_signal::{VersionListener, VersionReader};
use super::{
    BuildProgress, CatalogIndex, CatalogReads, ChangeSource, ImageNames, IndexChanges, JsonShape, ReadDatabase,
    RenderedRow, StoreResult, StoredImage, StoredRendition, read_preference,
};
use crate::domain::{Beer, BeerFilter, ImageMeta, IngredientKind, IngredientName, ListQuery};

/// Catalog reads on a read replica while it is healthy, on the primary otherwise.
pub struct ReplicaRouter {
    primary: Arc<dyn ReadDatabase>,
    replica: Arc<dyn ReadDatabase>,
    health: Arc<ReplicaHealth>,
}

impl ReplicaRouter {
    /// Routes reads between `primary` and `replica` as `health` says (the [`monitor`] keeps it up to date).
    pub fn new(primary: Arc<dyn ReadDatabase>, replica: Arc<dyn ReadDatabase>, health: Arc<ReplicaHealth>) -> Self {
        Self {
            primary,
            replica,
            health,
        }
    }

    /// Runs a catalog read where it belongs (see the module documentation).
    async fn read<T, F, Fut>(&self, operation: F) -> StoreResult<T>
    where
        F: Fn(Arc<dyn ReadDatabase>) -> Fut + Send + Sync,
        Fut: Future<Output = StoreResult<T>> + Send,
        T: Send,
    {
        if read_preference::primary_required() || !self.health.in_use() {
            self.health.reads_on_primary.fetch_add(1, Ordering::Relaxed);
            return operation(self.primary.clone()).await;
        }
        // A read on a replica that has just gone away can wait out the whole connect timeout (the pool retries a
        // refused connection until then); as soon as the monitor declares a fallback, it goes to the primary.
        let mut in_use = self.health.in_use.subscribe();
        let on_replica = tokio::select! {
            result = operation(self.replica.clone()) => Some(result),
            _ = in_use.wait_for(|in_use| !in_use) => None,
        };
        let Some(on_replica) = on_replica else {
            self.health.retried_on_primary.fetch_add(1, Ordering::Relaxed);
            self.health.reads_on_primary.fetch_add(1, Ordering::Relaxed);
            return operation(self.primary.clone()).await;
        };
        match on_replica {
            Ok(value) => {
                self.health.reads_on_replica.fetch_add(1, Ordering::Relaxed);
                Ok(value)
            }
            Err(error) => {
                if error.is_unavailable() {
                    self.health.fall_back("unreachable".into(), Some(&error));
                } else {
                    // E.g. a query cancelled by a conflict with recovery (SQLSTATE 40001), which only a standby
                    // raises: the primary can answer it.
                    tracing::warn!(%error, "read failed on the replica: retrying on the primary");
                }
                self.health.retried_on_primary.fetch_add(1, Ordering::Relaxed);
                self.health.reads_on_primary.fetch_add(1, Ordering::Relaxed);
                operation(self.primary.clone()).await
            }
        }
    }
}

#[async_trait]
impl CatalogReads for ReplicaRouter {
    async fn list(&self, query: &ListQuery) -> StoreResult<Vec<Beer>> {
        self.read(|store| async move { store.list(query).await }).await
    }

    async fn count(&self, filter: &BeerFilter) -> StoreResult<u64> {
        self.read(|store| async move { store.count(filter).await }).await
    }

    async fn ingredient_names(&self, kind: IngredientKind, filter: &BeerFilter) -> StoreResult<Vec<IngredientName>> {
        self.read(|store| async move { store.ingredient_names(kind, filter).await })
            .await
    }

    async fn list_json(&self, query: &ListQuery, shape: JsonShape, image_base: &str) -> StoreResult<String> {
        self.read(|store| async move { store.list_json(query, shape, image_base).await })
            .await
    }

    async fn get_json(&self, id: i64, shape: JsonShape, image_base: &str) -> StoreResult<Option<String>> {
        self.read(|store| async move { store.get_json(id, shape, image_base).await })
            .await
    }

    async fn rendered_rows(&self, ids: &[i64]) -> StoreResult<Vec<RenderedRow>> {
        self.read(|store| async move { store.rendered_rows(ids).await }).await
    }

    async fn get(&self, id: i64) -> StoreResult<Option<Beer>> {
        self.read(|store| async move { store.get(id).await }).await
    }

    async fn get_many(&self, ids: &[i64]) -> StoreResult<Vec<Beer>> {
        self.read(|store| async move { store.get_many(ids).await }).await
    }

    async fn random(&self) -> StoreResult<Option<Beer>> {
        self.read(|store| async move { store.random().await }).await
    }

    /// From the replica; an image it does not have yet is looked up on the primary: a client that loads the
    /// `image_url` an upload just returned must not get a 404 (which a CDN might keep) while the replica catches up.
    async fn image_meta(&self, sha256: &str) -> StoreResult<Option<ImageMeta>> {
        match self.read(|store| async move { store.image_meta(sha256).await }).await? {
            Some(meta) => Ok(Some(meta)),
            None if !read_preference::primary_required() => self.primary.image_meta(sha256).await,
            None => Ok(None),
        }
    }

    async fn image(&self, sha256: &str) -> StoreResult<Option<StoredImage>> {
        match self.read(|store| async move { store.image(sha256).await }).await? {
            Some(image) => Ok(Some(image)),
            None if !read_preference::primary_required() => self.primary.image(sha256).await,
            None => Ok(None),
        }
    }

    async fn image_rendition(&self, sha256: &str, width: u32) -> StoreResult<Option<StoredRendition>> {
        match self
            .read(|store| async move { store.image_rendition(sha256, width).await })
            .await?
        {
            Some(rendition) => Ok(Some(rendition)),
            // Made on the primary a moment ago (or lazily, for an old image): not on the replica yet.
            None if !read_preference::primary_required() => self.primary.image_rendition(sha256, width).await,
            None => Ok(None),
        }
    }

    // Asked once, at start-up: the primary, where uploads land.
    async fn has_images(&self) -> StoreResult<bool> {
        self.primary.has_images().await
    }
}

// The read model is built from, and checked against, the server the reads come from, like the cache's version.
#[async_trait]
impl ChangeSource for ReplicaRouter {
    async fn catalog_version(&self) -> StoreResult<i64> {
        self.read(|store| async move { store.catalog_version().await }).await
    }

    async fn load_index_with_progress(&self, progress: &Arc<BuildProgress>) -> StoreResult<CatalogIndex> {
        self.read(|store| async move {
            // A retry on the primary reads every beer again.
            progress.restart();
            store.load_index_with_progress(progress).await
        })
        .await
    }

    async fn load_index_changes(&self, since: i64, limit: usize) -> StoreResult<Option<IndexChanges>> {
        self.read(|store| async move { store.load_index_changes(since, limit).await })
            .await
    }

    async fn load_image_names(&self) -> StoreResult<ImageNames> {
        self.read(|store| async move { store.load_image_names().await }).await
    }

    // Whether the database is resuming or down is the primary's question (the outage guard guards the primary).
    async fn accepts_tcp(&self) -> Option<std::io::Result<()>> {
        self.primary.accepts_tcp().await
    }

    /// The version of the catalog the reads see ([`ReplicaVersionReader`]).
    async fn version_reader(&self) -> StoreResult<Box<dyn VersionReader>> {
        Ok(Box::new(ReplicaVersionReader {
            primary: self.primary.clone(),
            replica: self.replica.clone(),
            health: self.health.clone(),
            on_primary: None,
            on_replica: None,
        }))
    }

    /// Notifications are sent on commit by the primary, where the writes happen; a standby sends none.
    async fn version_listener(&self) -> StoreResult<Option<Box<dyn VersionListener>>> {
        self.primary.version_listener().await
    }
}
