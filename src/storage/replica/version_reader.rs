//! The change signal read where catalog reads are served: the replica's version while reads go to it (a cached
//! answer is then keyed by the state the replica had replayed, never ahead of it), the primary's while they do not.

use std::sync::Arc;

use async_trait::async_trait;

use super::health::ReplicaHealth;
use crate::storage::change_signal::VersionReader;
use crate::storage::{ReadDatabase, StoreResult};

/// Each side's connection opened when first needed and kept.
pub(super) struct ReplicaVersionReader {
    pub(super) primary: Arc<dyn ReadDatabase>,
    pub(super) replica: Arc<dyn ReadDatabase>,
    pub(super) health: Arc<ReplicaHealth>,
    pub(super) on_primary: Option<Box<dyn VersionReader>>,
    pub(super) on_replica: Option<Box<dyn VersionReader>>,
}

impl ReplicaVersionReader {
    async fn read(store: &Arc<dyn ReadDatabase>, reader: &mut Option<Box<dyn VersionReader>>) -> StoreResult<i64> {
        if reader.is_none() {
            *reader = Some(store.version_reader().await?);
        }
        let result = reader.as_mut().expect("opened above").version().await;
        if result.is_err() {
            *reader = None;
        }
        result
    }
}

#[async_trait]
impl VersionReader for ReplicaVersionReader {
    async fn version(&mut self) -> StoreResult<i64> {
        if self.health.in_use() {
            match Self::read(&self.replica, &mut self.on_replica).await {
                Ok(version) => return Ok(version),
                // As a read would, fall back to the primary (the replica monitor decides whether to switch).
                Err(error) => tracing::debug!(%error, "cannot read the catalog version on the replica"),
            }
        }
        Self::read(&self.primary, &mut self.on_primary).await
    }
}
