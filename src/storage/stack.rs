//! The storage stack the server runs on, assembled in one place ([`open`]) and handed to the HTTP layer as one
//! handle ([`Catalog`]) whose methods say which side a call goes to, as the Rust registry's server does with
//! `db_read()` / `db_write()`: [`Catalog::reads`] (the known image names over the read model over the outage guard
//! over the replica router)
//! and [`Catalog::writes`] (the outage guard over the primary). The layers never know of each other: they meet
//! here, and share one [`Freshness`], which the [`VersionFollower`] keeps current. The order, and what each layer
//! adds, is drawn in the module documentation of [`super`] and in docs/architecture.md.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::change_feed::ChangeFeed;
use super::change_signal::VersionFollower;
use super::freshness::Freshness;
use super::known_images::KnownImages;
use super::outage_guard::OutageGuard;
use super::read_model::{ReadModel, Warmth, WarmupSettings};
use super::replica::monitor::{Monitor, MonitorHandle};
use super::replica::{ReplicaHealth, ReplicaRouter, ReplicaStatus};
use super::{
    Backend, CatalogReads, CatalogWrites, ConnectError, DatabaseUrl, DynDatabase, PostgresStore, ReadDatabase,
    StoreOptions, StoreResult,
};
use crate::observability::Metrics;

/// What the stack is made of, beyond the primary database.
#[derive(Clone, Debug)]
pub struct StackSettings {
    /// Catalog reads from a PostgreSQL read replica.
    pub replica: Option<ReplicaSettings>,
    /// The in-process read model; `None`: SQL for every read.
    pub read_model: Option<ReadModelSettings>,
    /// Where every layer records its metrics ([`Metrics::disabled`]: nowhere).
    pub metrics: Metrics,
}

/// The in-process read model.
#[derive(Clone, Debug, Default)]
pub struct ReadModelSettings {
    /// Bytes of rendered rows it keeps (`READ_MODEL_DOCUMENT_BYTES`).
    pub rendered_row_bytes: u64,
    /// How long its first build may hold the process out of service (`READ_MODEL_WARMUP_TIMEOUT_SECS`).
    pub warmup: WarmupSettings,
}

/// A PostgreSQL read replica beside the primary.
#[derive(Clone, Debug)]
pub struct ReplicaSettings {
    /// The primary's URL (the replica monitor compares both servers' WAL positions on connections of its own).
    pub primary: DatabaseUrl,
    pub replica: DatabaseUrl,
    pub options: StoreOptions,
    /// Lag beyond which reads fall back to the primary (`DB_READ_MAX_LAG_SECS`).
    pub max_lag: Duration,
}

/// The catalog as the server uses it; cheap to clone (one shared stack).
#[derive(Clone)]
pub struct Catalog(Arc<Layers>);

struct Layers {
    /// The top of the read side: the known image names, over the read model (or the outage guard when there is
    /// none).
    reads: Arc<dyn CatalogReads>,
    guard: Arc<OutageGuard>,
    read_model: Option<Arc<ReadModel>>,
    known_images: Arc<KnownImages>,
    primary: DynDatabase,
    replica: Option<Replica>,
    freshness: Arc<Freshness>,
    /// Stopped on [`Catalog::close`], before the pools it reads from.
    follower: Mutex<Option<VersionFollower>>,
}

struct Replica {
    database: DynDatabase,
    health: Arc<ReplicaHealth>,
    monitor: MonitorHandle,
}

/// Assembles the stack over `primary` (already connected, and migrated where the configuration says so).
/// A read replica's state is known before this returns (one probe, at most 2 s); a replica that is down does not
/// stop the service from starting: reads go to the primary until it answers.
pub async fn open(primary: DynDatabase, settings: &StackSettings) -> Result<Catalog, ConnectError> {
    let metrics = &settings.metrics;
    primary.record_into(metrics, "primary");
    let (read_side, replica): (Arc<dyn ReadDatabase>, Option<Replica>) = match &settings.replica {
        None => (primary.clone(), None),
        Some(replica) => {
            let database: DynDatabase = Arc::new(PostgresStore::connect_lazy(&replica.replica, &replica.options)?);
            database.record_into(metrics, "replica");
            let health = Arc::new(ReplicaHealth::with_metrics(replica.max_lag, metrics));
            let monitor = Monitor::start(&replica.primary, &replica.replica, health.clone()).await?;
            let router = ReplicaRouter::new(primary.clone(), database.clone(), health.clone());
            let replica = Replica {
                database,
                health,
                monitor,
            };
            (Arc::new(router), Some(replica))
        }
    };
    let freshness = Freshness::with_metrics(metrics);
    // The follower reads where reads are served, beneath the guard: it is the probe that ends an outage.
    let follower = VersionFollower::start(read_side.clone(), freshness.clone());
    let guard = Arc::new(OutageGuard::new(
        read_side,
        primary.clone(),
        primary.clone(),
        freshness.clone(),
    ));
    let read_model = settings.read_model.as_ref().map(|read_model| {
        ReadModel::start_with_metrics(
            guard.clone(),
            Some(freshness.clone()),
            read_model.rendered_row_bytes,
            read_model.warmup.clone(),
            metrics,
        )
    });
    let reads: Arc<dyn CatalogReads> = match &read_model {
        Some(model) => model.clone(),
        None => guard.clone(),
    };
    let known_images = Arc::new(KnownImages::start(reads, guard.clone(), freshness.clone()));
    Ok(Catalog(Arc::new(Layers {
        reads: known_images.clone(),
        known_images,
        guard,
        read_model,
        primary,
        replica,
        freshness,
        follower: Mutex::new(Some(follower)),
    })))
}

impl Catalog {
    /// Catalog reads, from the read side (the read model, a replica, or the primary).
    pub fn reads(&self) -> &dyn CatalogReads {
        &*self.0.reads
    }

    /// Catalog writes, on the primary.
    pub fn writes(&self) -> &dyn CatalogWrites {
        &*self.0.guard
    }

    /// A round trip to the primary, for readiness.
    pub async fn ping(&self) -> StoreResult<()> {
        self.0.guard.ping().await
    }

    pub fn backend(&self) -> Backend {
        self.0.primary.backend()
    }

    /// What caches check their answers against.
    pub fn freshness(&self) -> Arc<Freshness> {
        self.0.freshness.clone()
    }

    /// The read replica's state, when reads are served by one.
    pub fn replica_status(&self) -> Option<ReplicaStatus> {
        self.0.replica.as_ref().map(|replica| replica.health.status())
    }

    /// Whether the read model is warm enough for the process to be given traffic (readiness); `None` without a
    /// read model (every read is SQL, and there is nothing to wait for).
    pub fn warmth(&self) -> Option<Warmth> {
        self.0.read_model.as_ref().map(|model| model.warmth())
    }

    /// Which beers each catalog version step changed, as the read model learns them from the change log: what
    /// lets a cache keep answers a write cannot change. `None` without a read model.
    pub fn change_feed(&self) -> Option<Arc<ChangeFeed>> {
        self.0.read_model.as_ref().map(|model| model.change_feed())
    }

    /// The read model, when the stack has one (for tests and diagnostics).
    pub fn read_model(&self) -> Option<Arc<ReadModel>> {
        self.0.read_model.clone()
    }

    /// The names of the stored images the read side knows (for tests and diagnostics).
    pub fn known_images(&self) -> &KnownImages {
        &self.0.known_images
    }

    /// Stops the background work and closes the pools (the follower holds a pooled connection: it goes first).
    pub async fn close(&self) {
        drop(self.0.follower.lock().expect("never poisoned").take());
        match &self.0.replica {
            Some(replica) => {
                replica.monitor.stop();
                tokio::join!(self.0.primary.close(), replica.database.close());
            }
            None => self.0.primary.close().await,
        }
    }
}
