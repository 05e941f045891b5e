//! Catalog reads from a PostgreSQL read replica, everything else from the primary.
//!
//! [`ReplicatedStore`] implements [`BeerStore`] by delegating to two stores, so the backends know nothing of
//! replication:
//! - writes, migrations and the readiness ping go to the primary (`/ready` answers for the primary: the service
//!   is ready while the primary serves, whatever the replica does);
//! - list, count, get and random go to the replica while it is healthy, and to the primary while it is not;
//! - reads made while handling a write (inside [`reads_on_primary`], which the HTTP layer wraps around every
//!   request that is not GET/HEAD/OPTIONS) go to the primary, so a write's response never shows the replica's
//!   older state;
//! - a read that fails on the replica is retried once on the primary, so a replica outage costs no errors while
//!   the primary serves; a connection-class failure also switches reads to the primary at once.
//!
//! A background monitor probes every second, on connections of its own, the primary's WAL position and the
//! standby's replay, and decides whether the replica is healthy: reachable, and no more than
//! `DB_READ_MAX_LAG_SECS` behind (`LagTracker` says how the lag is measured). Each switch between "in use"
//! and "fallback" is logged once and counted; [`ReplicaStatus`] reports both (it is shown in `/ready`). The
//! functions it calls need no privilege: the DML-only app role can run them.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use super::DatabaseUrl;
use super::{
    Backend, BeerStore, CatalogIndex, ChangeFeed, ChangeListener, ConnectError, DynStore, ImageRemoval, ImportMessage,
    ImportRecord, IndexChanges, JsonShape, PostgresStore, RenderedRow, StoreOptions, StoreResult, StoredImage,
};
use crate::domain::{Beer, BeerFields, BeerFilter, ImageMeta, ListQuery, NewImage};

/// How often the monitor probes the replica.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// How long one probe (connecting included) may take before the replica counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// On the standby: is it one, how far into the WAL it has replayed, and how old the last transaction it replayed is
/// (NULL until it replays one, e.g. just after a restart). On a server that is not a standby the position is NULL.
const STANDBY_PROBE_SQL: &str = "SELECT pg_is_in_recovery(), \
     (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::int8, \
     EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8";
/// On the primary: how far it has written its WAL.
const PRIMARY_PROBE_SQL: &str = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::int8";
/// Primary positions remembered (one a probe: an hour's worth). Beyond that new ones are not recorded, which can
/// only overstate the lag, never understate it.
const MAX_POSITIONS: usize = 3600;

tokio::task_local! {
    static READS_ON_PRIMARY: ();
}

/// Runs `work` with every catalog read it makes served by the primary: what a request that writes needs, so that
/// anything it reads back sees its own write (the replica may not have replayed it yet).
pub async fn reads_on_primary<F: Future>(work: F) -> F::Output {
    READS_ON_PRIMARY.scope((), work).await
}

/// Whether this task runs inside [`reads_on_primary`].
pub fn pinned_to_primary() -> bool {
    READS_ON_PRIMARY.try_with(|_| ()).is_ok()
}

/// What the replica is doing, for `/ready` and operators.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaStatus {
    /// `None` while reads go to the replica; why they do not otherwise.
    pub fallback_reason: Option<String>,
    /// Replication lag at the last successful probe.
    pub lag: Option<Duration>,
    pub max_lag: Duration,
    /// Whether the server is a standby (`pg_is_in_recovery()`) at the last successful probe.
    pub in_recovery: Option<bool>,
    /// Switches from the replica to the primary since start.
    pub fallbacks: u64,
    pub reads_on_replica: u64,
    /// Catalog reads the primary served: during a fallback, within a write, or after failing on the replica.
    pub reads_on_primary: u64,
    /// Reads that failed on the replica and were answered by the primary.
    pub retried_on_primary: u64,
}

/// Whether reads may go to the replica, and the counts behind [`ReplicaStatus`].
#[derive(Debug)]
pub struct ReplicaHealth {
    max_lag: Duration,
    /// Watched, so that reads waiting on a replica that just went away give up at once (see `read`).
    in_use: tokio::sync::watch::Sender<bool>,
    observed: Mutex<Observed>,
    fallbacks: AtomicU64,
    reads_on_replica: AtomicU64,
    reads_on_primary: AtomicU64,
    retried_on_primary: AtomicU64,
}

#[derive(Debug, Default)]
struct Observed {
    fallback_reason: Option<String>,
    lag: Option<Duration>,
    in_recovery: Option<bool>,
}

impl ReplicaHealth {
    pub fn new(max_lag: Duration) -> Self {
        Self {
            max_lag,
            in_use: tokio::sync::watch::Sender::new(true),
            observed: Mutex::new(Observed::default()),
            fallbacks: AtomicU64::new(0),
            reads_on_replica: AtomicU64::new(0),
            reads_on_primary: AtomicU64::new(0),
            retried_on_primary: AtomicU64::new(0),
        }
    }

    fn observed(&self) -> std::sync::MutexGuard<'_, Observed> {
        // A panic elsewhere while holding the lock leaves plain data behind; keep using it.
        self.observed.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn in_use(&self) -> bool {
        *self.in_use.borrow()
    }

    /// Sends reads to the primary. Logged and counted on the switch only; while already falling back, only the
    /// reason is brought up to date (a growing lag). `reason` is public (it is shown by `/ready`), so it names the
    /// kind of failure; the driver's error, which may name hosts and addresses, goes to the log line only.
    pub fn fall_back(&self, reason: String, error: Option<&dyn std::fmt::Display>) {
        let mut observed = self.observed();
        if observed.fallback_reason.is_none() {
            self.fallbacks.fetch_add(1, Ordering::SeqCst);
            match error {
                Some(error) => {
                    tracing::warn!(%reason, %error, "read replica not usable: reads fall back to the primary")
                }
                None => tracing::warn!(%reason, "read replica not usable: reads fall back to the primary"),
            }
        }
        observed.fallback_reason = Some(reason);
        self.in_use.send_replace(false);
    }

    /// Sends reads to the replica again, logging the return once.
    pub fn back_in_use(&self) {
        let mut observed = self.observed();
        if let Some(reason) = observed.fallback_reason.take() {
            tracing::info!(after = %reason, "read replica healthy again: reads go to it");
        }
        self.in_use.send_replace(true);
    }

    fn record_probe(&self, in_recovery: bool, lag: Duration) {
        let mut observed = self.observed();
        observed.in_recovery = Some(in_recovery);
        observed.lag = Some(lag);
    }

    pub fn status(&self) -> ReplicaStatus {
        let observed = self.observed();
        ReplicaStatus {
            fallback_reason: observed.fallback_reason.clone(),
            lag: observed.lag,
            max_lag: self.max_lag,
            in_recovery: observed.in_recovery,
            fallbacks: self.fallbacks.load(Ordering::SeqCst),
            reads_on_replica: self.reads_on_replica.load(Ordering::SeqCst),
            reads_on_primary: self.reads_on_primary.load(Ordering::SeqCst),
            retried_on_primary: self.retried_on_primary.load(Ordering::SeqCst),
        }
    }
}

/// What one probe of the standby saw.
#[derive(Clone, Copy, Debug)]
struct Probe {
    in_recovery: bool,
    /// WAL position replayed (bytes); `None` on a server that is not a standby.
    replayed: Option<i64>,
    /// Time since the last replayed transaction committed on the primary; `None` until one is replayed.
    replay_age: Option<Duration>,
}

/// Turns probes into a lag: how old the newest primary state is that the standby is known to have replayed.
///
/// Each probe first records the primary's WAL position with the time. The standby has replayed everything up to
/// its replay position, so its data is at least as new as the newest recorded primary position at or below it (the
/// anchor), and no newer than the first one above it. That works where the replay timestamp alone misleads: an idle
/// primary commits nothing, so a caught-up standby's last replay gets old without any lag, and after a restart the
/// standby has no replay timestamp at all while it may be far behind. Under a steady stream of writes the anchor is
/// a probe interval old while the replay timestamp is fresh, so the lag is the smaller of the two.
#[derive(Debug, Default)]
struct LagTracker {
    /// Primary positions with when they were seen, oldest first: at most one the standby has replayed (the anchor),
    /// then the ones it has not.
    positions: VecDeque<(Instant, i64)>,
}

impl LagTracker {
    fn record_primary(&mut self, seen: Instant, position: i64) {
        if self.positions.len() < MAX_POSITIONS {
            self.positions.push_back((seen, position));
        }
    }

    fn lag(&mut self, probe: Probe, now: Instant) -> Duration {
        let (true, Some(replayed)) = (probe.in_recovery, probe.replayed) else {
            return Duration::ZERO; // not a standby: nothing to lag behind
        };
        while self.positions.len() >= 2 && self.positions[1].1 <= replayed {
            self.positions.pop_front();
        }
        let age = |since: Instant| now.saturating_duration_since(since);
        match (self.positions.front(), self.positions.back()) {
            // Everything the primary had written when last asked is replayed.
            (_, Some(&(_, latest))) if latest <= replayed => Duration::ZERO,
            (Some(&(anchor, position)), _) if position <= replayed => {
                age(anchor).min(probe.replay_age.unwrap_or(Duration::MAX))
            }
            // Behind every position seen since monitoring began: the replay timestamp is the best measure there is.
            (Some(&(oldest, _)), _) => probe.replay_age.unwrap_or_else(|| age(oldest)),
            // The primary never answered the monitor (it is down: /ready says so); the replica may still serve.
            (None, _) => probe.replay_age.unwrap_or_default(),
        }
    }
}

/// One connection of the monitor's own, reopened after any failure. Not from the read pool, so a busy pool does
/// not read as an outage, and a refused connection shows its own error at once.
struct ProbeConnection {
    options: PgConnectOptions,
    connection: Option<PgConnection>,
}

/// Why a probe failed: the driver's error, or no answer within [`PROBE_TIMEOUT`].
enum ProbeError {
    Failed(sqlx::Error),
    TimedOut,
}

impl ProbeConnection {
    fn new(options: PgConnectOptions) -> Self {
        Self {
            options,
            connection: None,
        }
    }

    async fn fetch<T>(&mut self, sql: &'static str) -> Result<T, ProbeError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        let (options, slot) = (&self.options, &mut self.connection);
        let attempt = tokio::time::timeout(PROBE_TIMEOUT, async move {
            let connection = match slot {
                Some(connection) => connection,
                None => slot.insert(PgConnection::connect_with(options).await?),
            };
            sqlx::query_as::<_, T>(sql).fetch_one(connection).await
        })
        .await;
        let error = match attempt {
            Ok(Ok(row)) => return Ok(row),
            Ok(Err(error)) => ProbeError::Failed(error),
            Err(_) => ProbeError::TimedOut,
        };
        self.connection = None;
        Err(error)
    }
}

/// Probes the primary's WAL position and the standby every [`PROBE_INTERVAL`], and decides whether reads may go to
/// the standby.
struct Monitor {
    primary: ProbeConnection,
    standby: ProbeConnection,
    lag: LagTracker,
    health: Arc<ReplicaHealth>,
    warned_not_standby: bool,
}

impl Monitor {
    async fn run(mut self) {
        let mut ticks = tokio::time::interval(PROBE_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is immediate, and start-up has just checked
        loop {
            ticks.tick().await;
            self.check().await;
        }
    }

    async fn check(&mut self) {
        // The primary first: whatever the standby has replayed when it answers is compared with this position.
        match self.primary.fetch::<(i64,)>(PRIMARY_PROBE_SQL).await {
            Ok((position,)) => self.lag.record_primary(Instant::now(), position),
            // The primary's own health is /ready's business; the lag is measured again once it answers.
            Err(_) => tracing::debug!("replica monitor: the primary did not give its WAL position"),
        }
        let (in_recovery, replayed, replay_age) = match self
            .standby
            .fetch::<(bool, Option<i64>, Option<f64>)>(STANDBY_PROBE_SQL)
            .await
        {
            Ok(row) => row,
            Err(ProbeError::Failed(error)) => {
                self.health.fall_back("unreachable".into(), Some(&error));
                return;
            }
            Err(ProbeError::TimedOut) => {
                let reason = format!("unreachable: no answer within {} s", PROBE_TIMEOUT.as_secs());
                self.health.fall_back(reason, None);
                return;
            }
        };
        if !in_recovery && !self.warned_not_standby {
            self.warned_not_standby = true;
            tracing::warn!("the read database is not a standby (pg_is_in_recovery() is false): is DB_READ_* right?");
        }
        let probe = Probe {
            in_recovery,
            replayed,
            replay_age: replay_age.map(|secs| Duration::try_from_secs_f64(secs).unwrap_or_default()),
        };
        let lag = self.lag.lag(probe, Instant::now());
        self.health.record_probe(in_recovery, lag);
        let max_lag = self.health.max_lag;
        if lag > max_lag {
            let reason = format!(
                "lagging {:.1} s behind the primary, more than DB_READ_MAX_LAG_SECS={}",
                lag.as_secs_f64(),
                max_lag.as_secs()
            );
            self.health.fall_back(reason, None);
        } else {
            self.health.back_in_use();
        }
    }
}

/// A primary for writes and a read replica for catalog reads, behind one [`BeerStore`].
pub struct ReplicatedStore {
    primary: DynStore,
    replica: DynStore,
    health: Arc<ReplicaHealth>,
    monitor: Option<tokio::task::AbortHandle>,
}

impl ReplicatedStore {
    /// Wraps `primary` with the replica at `replica_url` and starts the monitor. The replica's state is known
    /// before this returns (one probe, at most 2 s); a replica that is down does not stop the service from
    /// starting: reads go to the primary until it answers.
    pub async fn start(
        primary: DynStore,
        primary_url: &DatabaseUrl,
        replica_url: &DatabaseUrl,
        options: &StoreOptions,
        max_lag: Duration,
    ) -> Result<Self, ConnectError> {
        let replica = PostgresStore::connect_lazy(replica_url, options)?;
        let health = Arc::new(ReplicaHealth::new(max_lag));
        let mut monitor = Monitor {
            primary: ProbeConnection::new(PostgresStore::connect_options(primary_url)?),
            standby: ProbeConnection::new(PostgresStore::connect_options(replica_url)?),
            lag: LagTracker::default(),
            health: health.clone(),
            warned_not_standby: false,
        };
        monitor.check().await;
        let monitor = tokio::spawn(monitor.run()).abort_handle();
        Ok(Self {
            primary,
            replica: Arc::new(replica),
            health,
            monitor: Some(monitor),
        })
    }

    /// Two given stores and a health record with no monitor: the routing alone, for tests.
    pub fn with_health(primary: DynStore, replica: DynStore, health: Arc<ReplicaHealth>) -> Self {
        Self {
            primary,
            replica,
            health,
            monitor: None,
        }
    }

    /// Runs a catalog read where it belongs (see the module documentation).
    async fn read<T, F, Fut>(&self, operation: F) -> StoreResult<T>
    where
        F: Fn(DynStore) -> Fut + Send + Sync,
        Fut: Future<Output = StoreResult<T>> + Send,
        T: Send,
    {
        if pinned_to_primary() || !self.health.in_use() {
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

/// The change signal read where catalog reads are served (see [`ReplicatedStore::change_feed`]), each side's
/// connection opened when first needed and kept.
struct ReplicatedFeed {
    primary: DynStore,
    replica: DynStore,
    health: Arc<ReplicaHealth>,
    on_primary: Option<Box<dyn ChangeFeed>>,
    on_replica: Option<Box<dyn ChangeFeed>>,
}

impl ReplicatedFeed {
    async fn read(store: &DynStore, feed: &mut Option<Box<dyn ChangeFeed>>) -> StoreResult<i64> {
        if feed.is_none() {
            *feed = Some(store.change_feed().await?);
        }
        let result = feed.as_mut().expect("opened above").version().await;
        if result.is_err() {
            *feed = None;
        }
        result
    }
}

#[async_trait]
impl ChangeFeed for ReplicatedFeed {
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

impl Drop for ReplicatedStore {
    fn drop(&mut self) {
        if let Some(monitor) = &self.monitor {
            monitor.abort();
        }
    }
}

#[async_trait]
impl BeerStore for ReplicatedStore {
    fn backend(&self) -> Backend {
        self.primary.backend()
    }

    async fn migrate(&self) -> StoreResult<()> {
        self.primary.migrate().await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.primary.ping().await
    }

    async fn list(&self, query: &ListQuery) -> StoreResult<Vec<Beer>> {
        self.read(|store| async move { store.list(query).await }).await
    }

    async fn count(&self, filter: &BeerFilter) -> StoreResult<u64> {
        self.read(|store| async move { store.count(filter).await }).await
    }

    async fn get(&self, id: i64) -> StoreResult<Option<Beer>> {
        self.read(|store| async move { store.get(id).await }).await
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

    async fn random(&self) -> StoreResult<Option<Beer>> {
        self.read(|store| async move { store.random().await }).await
    }

    async fn create(&self, fields: &BeerFields) -> StoreResult<Beer> {
        self.primary.create(fields).await
    }

    async fn update(&self, id: i64, fields: &BeerFields) -> StoreResult<Option<Beer>> {
        self.primary.update(id, fields).await
    }

    async fn delete(&self, id: i64) -> StoreResult<bool> {
        self.primary.delete(id).await
    }

    async fn import(&self, records: &[ImportRecord], progress: &(dyn Fn(usize) + Send + Sync)) -> StoreResult<()> {
        self.primary.import(records, progress).await
    }

    async fn set_image(&self, beer_id: i64, image: &NewImage) -> StoreResult<Option<Beer>> {
        self.primary.set_image(beer_id, image).await
    }

    async fn import_stream(
        &self,
        messages: &mut tokio::sync::mpsc::Receiver<ImportMessage>,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> StoreResult<bool> {
        self.primary.import_stream(messages, progress).await
    }

    // The read model is built from, and checked against, the server the reads come from, like the cache's version.
    async fn catalog_version(&self) -> StoreResult<i64> {
        self.read(|store| async move { store.catalog_version().await }).await
    }

    async fn load_index(&self) -> StoreResult<CatalogIndex> {
        self.read(|store| async move { store.load_index().await }).await
    }

    async fn load_index_changes(&self, since: i64, limit: usize) -> StoreResult<Option<IndexChanges>> {
        self.read(|store| async move { store.load_index_changes(since, limit).await })
            .await
    }

    async fn get_many(&self, ids: &[i64]) -> StoreResult<Vec<Beer>> {
        self.read(|store| async move { store.get_many(ids).await }).await
    }

    async fn remove_image(&self, beer_id: i64) -> StoreResult<ImageRemoval> {
        self.primary.remove_image(beer_id).await
    }

    /// From the replica; an image it does not have yet is looked up on the primary: a client that loads the
    /// `image_url` an upload just returned must not get a 404 (which a CDN might keep) while the replica catches up.
    async fn image_meta(&self, sha256: &str) -> StoreResult<Option<ImageMeta>> {
        match self.read(|store| async move { store.image_meta(sha256).await }).await? {
            Some(meta) => Ok(Some(meta)),
            None if !pinned_to_primary() => self.primary.image_meta(sha256).await,
            None => Ok(None),
        }
    }

    async fn image(&self, sha256: &str) -> StoreResult<Option<StoredImage>> {
        match self.read(|store| async move { store.image(sha256).await }).await? {
            Some(image) => Ok(Some(image)),
            None if !pinned_to_primary() => self.primary.image(sha256).await,
            None => Ok(None),
        }
    }

    async fn has_images(&self) -> StoreResult<bool> {
        self.primary.has_images().await
    }

    fn read_replica(&self) -> Option<ReplicaStatus> {
        Some(self.health.status())
    }

    /// The version of the catalog the reads see: the replica's while reads go to it (a cached answer is then
    /// keyed by the state the replica had replayed, never ahead of it), the primary's while they do not.
    async fn change_feed(&self) -> StoreResult<Box<dyn ChangeFeed>> {
        Ok(Box::new(ReplicatedFeed {
            primary: self.primary.clone(),
            replica: self.replica.clone(),
            health: self.health.clone(),
            on_primary: None,
            on_replica: None,
        }))
    }

    /// Notifications are sent on commit by the primary, where the writes happen; a standby sends none.
    async fn change_listener(&self) -> StoreResult<Option<Box<dyn ChangeListener>>> {
        self.primary.change_listener().await
    }

    async fn close(&self) {
        if let Some(monitor) = &self.monitor {
            monitor.abort();
        }
        tokio::join!(self.primary.close(), self.replica.close());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::StoreError;

    /// A store that records which calls reach it and can fail its reads.
    struct Recording {
        calls: Mutex<Vec<&'static str>>,
        failure: Mutex<Option<fn() -> StoreError>>,
        /// `get` never answers (a replica whose connections hang).
        hang: std::sync::atomic::AtomicBool,
        /// What its change feeds read.
        feed: Arc<FeedState>,
    }

    #[derive(Default)]
    struct FeedState {
        version: std::sync::atomic::AtomicI64,
        unavailable: std::sync::atomic::AtomicBool,
    }

    struct RecordedFeed(Arc<FeedState>);

    #[async_trait]
    impl ChangeFeed for RecordedFeed {
        async fn version(&mut self) -> StoreResult<i64> {
            if self.0.unavailable.load(Ordering::SeqCst) {
                return Err(unavailable());
            }
            Ok(self.0.version.load(Ordering::SeqCst))
        }
    }

    impl Recording {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                calls: Mutex::new(Vec::new()),
                failure: Mutex::new(None),
                hang: std::sync::atomic::AtomicBool::new(false),
                feed: Arc::default(),
            })
        }

        fn calls(&self) -> Vec<&'static str> {
            self.calls.lock().unwrap().clone()
        }

        fn fail_reads_with(&self, failure: fn() -> StoreError) {
            *self.failure.lock().unwrap() = Some(failure);
        }

        fn read(&self, call: &'static str) -> StoreResult<()> {
            self.calls.lock().unwrap().push(call);
            match *self.failure.lock().unwrap() {
                Some(failure) => Err(failure()),
                None => Ok(()),
            }
        }

        fn write(&self, call: &'static str) {
            self.calls.lock().unwrap().push(call);
        }
    }

    #[async_trait]
    impl BeerStore for Recording {
        fn backend(&self) -> Backend {
            Backend::Postgres
        }
        async fn migrate(&self) -> StoreResult<()> {
            self.write("migrate");
            Ok(())
        }
        async fn ping(&self) -> StoreResult<()> {
            self.write("ping");
            Ok(())
        }
        async fn list(&self, _query: &ListQuery) -> StoreResult<Vec<Beer>> {
            self.read("list").map(|()| Vec::new())
        }
        async fn count(&self, _filter: &BeerFilter) -> StoreResult<u64> {
            self.read("count").map(|()| 0)
        }
        async fn get(&self, _id: i64) -> StoreResult<Option<Beer>> {
            if self.hang.load(Ordering::SeqCst) {
                self.calls.lock().unwrap().push("get (hangs)");
                std::future::pending::<()>().await;
            }
            self.read("get").map(|()| None)
        }
        async fn random(&self) -> StoreResult<Option<Beer>> {
            self.read("random").map(|()| None)
        }
        async fn list_json(&self, _query: &ListQuery, _shape: JsonShape, _image_base: &str) -> StoreResult<String> {
            self.read("list_json").map(|()| "[]".to_owned())
        }
        async fn get_json(&self, _id: i64, _shape: JsonShape, _image_base: &str) -> StoreResult<Option<String>> {
            self.read("get_json").map(|()| None)
        }
        async fn rendered_rows(&self, _ids: &[i64]) -> StoreResult<Vec<RenderedRow>> {
            self.read("rendered_rows").map(|()| Vec::new())
        }
        async fn import_stream(
            &self,
            _messages: &mut tokio::sync::mpsc::Receiver<ImportMessage>,
            _progress: &(dyn Fn(usize) + Send + Sync),
        ) -> StoreResult<bool> {
            self.write("import_stream");
            Ok(false)
        }
        async fn catalog_version(&self) -> StoreResult<i64> {
            self.read("catalog_version").map(|()| 0)
        }
        async fn load_index(&self) -> StoreResult<CatalogIndex> {
            self.read("load_index")?;
            Err(StoreError::Database(sqlx::Error::RowNotFound))
        }
        async fn load_index_changes(&self, _since: i64, _limit: usize) -> StoreResult<Option<IndexChanges>> {
            self.read("load_index_changes").map(|()| None)
        }
        async fn get_many(&self, _ids: &[i64]) -> StoreResult<Vec<Beer>> {
            self.read("get_many").map(|()| Vec::new())
        }
        async fn change_feed(&self) -> StoreResult<Box<dyn ChangeFeed>> {
            self.read("change_feed")?;
            Ok(Box::new(RecordedFeed(self.feed.clone())))
        }
        async fn create(&self, _fields: &BeerFields) -> StoreResult<Beer> {
            self.write("create");
            Err(StoreError::Database(sqlx::Error::RowNotFound))
        }
        async fn update(&self, _id: i64, _fields: &BeerFields) -> StoreResult<Option<Beer>> {
            self.write("update");
            Ok(None)
        }
        async fn delete(&self, _id: i64) -> StoreResult<bool> {
            self.write("delete");
            Ok(true)
        }
        async fn import(
            &self,
            _records: &[ImportRecord],
            _progress: &(dyn Fn(usize) + Send + Sync),
        ) -> StoreResult<()> {
            self.write("import");
            Ok(())
        }
        async fn set_image(&self, _beer_id: i64, _image: &NewImage) -> StoreResult<Option<Beer>> {
            self.write("set_image");
            Ok(None)
        }
        async fn remove_image(&self, _beer_id: i64) -> StoreResult<ImageRemoval> {
            self.write("remove_image");
            Ok(ImageRemoval::NoSuchBeer)
        }
        async fn image_meta(&self, _sha256: &str) -> StoreResult<Option<ImageMeta>> {
            self.read("image_meta").map(|()| None)
        }
        async fn image(&self, _sha256: &str) -> StoreResult<Option<StoredImage>> {
            self.read("image").map(|()| None)
        }
        async fn has_images(&self) -> StoreResult<bool> {
            self.write("has_images");
            Ok(false)
        }
        async fn close(&self) {}
    }

    fn replicated() -> (ReplicatedStore, Arc<Recording>, Arc<Recording>) {
        let (primary, replica) = (Recording::new(), Recording::new());
        let health = Arc::new(ReplicaHealth::new(Duration::from_secs(5)));
        let store = ReplicatedStore::with_health(primary.clone(), replica.clone(), health);
        (store, primary, replica)
    }

    fn unavailable() -> StoreError {
        StoreError::Unavailable(sqlx::Error::PoolTimedOut)
    }

    fn recovery_conflict() -> StoreError {
        StoreError::Database(sqlx::Error::Protocol(
            "canceling statement due to conflict with recovery".into(),
        ))
    }

    #[tokio::test]
    async fn the_change_signal_is_read_where_the_reads_go() {
        let (store, primary, replica) = replicated();
        primary.feed.version.store(9, Ordering::SeqCst);
        replica.feed.version.store(7, Ordering::SeqCst);
        let mut feed = store.change_feed().await.unwrap();
        assert_eq!(
            feed.version().await.unwrap(),
            7,
            "the replica's version while reads go to it"
        );
        replica.feed.unavailable.store(true, Ordering::SeqCst);
        assert_eq!(
            feed.version().await.unwrap(),
            9,
            "the primary's when the replica cannot answer"
        );
        replica.feed.unavailable.store(false, Ordering::SeqCst);
        assert_eq!(feed.version().await.unwrap(), 7, "the replica's again once it answers");
        store.health.fall_back("test".into(), None);
        assert_eq!(feed.version().await.unwrap(), 9, "the primary's while reads go there");
    }

    #[tokio::test]
    async fn catalog_reads_go_to_the_replica_and_writes_to_the_primary() {
        let (store, primary, replica) = replicated();
        store.list(&ListQuery::default()).await.unwrap();
        store.count(&BeerFilter::default()).await.unwrap();
        store.get(1).await.unwrap();
        store.random().await.unwrap();
        let fields: BeerFields = serde_json::from_value(serde_json::json!({"name": "x", "abv": 5})).unwrap();
        store.update(1, &fields).await.unwrap();
        store.delete(1).await.unwrap();
        store.ping().await.unwrap();
        store.migrate().await.unwrap();
        assert_eq!(replica.calls(), ["list", "count", "get", "random"]);
        assert_eq!(primary.calls(), ["update", "delete", "ping", "migrate"]);
        let status = store.read_replica().unwrap();
        assert_eq!((status.reads_on_replica, status.reads_on_primary), (4, 0));
        assert_eq!(status.fallback_reason, None);
    }

    #[tokio::test]
    async fn images_are_written_on_the_primary_and_read_from_the_replica_then_the_primary() {
        let (store, primary, replica) = replicated();
        let image = crate::domain::image::inspect(
            b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\0\0\0\0".to_vec(),
            crate::domain::ImageLimits {
                max_bytes: 1024,
                max_dimension: 8,
            },
        )
        .unwrap();
        store.set_image(1, &image).await.unwrap();
        store.remove_image(1).await.unwrap();
        store.has_images().await.unwrap();
        // Neither has it (the recording stores hold nothing): the replica's miss is asked of the primary.
        assert!(store.image("ab").await.unwrap().is_none());
        assert!(store.image_meta("ab").await.unwrap().is_none());
        assert_eq!(replica.calls(), ["image", "image_meta"]);
        assert_eq!(
            primary.calls(),
            ["set_image", "remove_image", "has_images", "image", "image_meta"]
        );
    }

    #[tokio::test]
    async fn reads_inside_a_write_go_to_the_primary() {
        let (store, primary, replica) = replicated();
        reads_on_primary(async {
            store.get(1).await.unwrap();
            store.list(&ListQuery::default()).await.unwrap();
        })
        .await;
        store.get(2).await.unwrap();
        assert_eq!(primary.calls(), ["get", "list"]);
        assert_eq!(replica.calls(), ["get"]);
    }

    #[tokio::test]
    async fn a_fallback_sends_reads_to_the_primary_until_the_replica_is_back() {
        let (store, primary, replica) = replicated();
        store.health.fall_back("lagging".into(), None);
        store.health.fall_back("lagging more".into(), None);
        store.get(1).await.unwrap();
        assert_eq!(primary.calls(), ["get"]);
        let status = store.read_replica().unwrap();
        assert_eq!(status.fallback_reason.as_deref(), Some("lagging more"));
        assert_eq!(status.fallbacks, 1, "one switch, however many reasons");
        store.health.back_in_use();
        store.get(1).await.unwrap();
        assert_eq!(replica.calls(), ["get"]);
        assert_eq!(store.read_replica().unwrap().fallback_reason, None);
    }

    #[tokio::test]
    async fn a_read_the_unavailable_replica_fails_is_answered_by_the_primary_and_later_reads_skip_the_replica() {
        let (store, primary, replica) = replicated();
        replica.fail_reads_with(unavailable);
        assert!(store.get(1).await.unwrap().is_none());
        store.get(2).await.unwrap();
        assert_eq!(
            replica.calls(),
            ["get"],
            "after the failure the replica is not tried again"
        );
        assert_eq!(primary.calls(), ["get", "get"]);
        let status = store.read_replica().unwrap();
        assert_eq!(status.fallback_reason.as_deref(), Some("unreachable"));
        assert_eq!(
            (status.fallbacks, status.retried_on_primary, status.reads_on_primary),
            (1, 1, 2)
        );
    }

    #[tokio::test]
    async fn a_read_waiting_on_the_replica_goes_to_the_primary_as_soon_as_the_replica_is_given_up() {
        let (store, primary, replica) = replicated();
        replica.hang.store(true, Ordering::SeqCst);
        let store = Arc::new(store);
        let read = tokio::spawn({
            let store = store.clone();
            async move { store.get(1).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!read.is_finished(), "the read waits on the replica");
        store.health.fall_back("unreachable".into(), None);
        let answer = tokio::time::timeout(Duration::from_secs(5), read).await;
        assert!(answer.expect("answered once the replica was given up").unwrap().is_ok());
        assert_eq!((replica.calls(), primary.calls()), (vec!["get (hangs)"], vec!["get"]));
        assert_eq!(store.read_replica().unwrap().retried_on_primary, 1);
    }

    #[tokio::test]
    async fn other_replica_errors_are_retried_on_the_primary_without_a_fallback() {
        let (store, primary, replica) = replicated();
        replica.fail_reads_with(recovery_conflict);
        store.random().await.unwrap();
        assert_eq!((replica.calls(), primary.calls()), (vec!["random"], vec!["random"]));
        let status = store.read_replica().unwrap();
        assert_eq!((status.fallbacks, status.retried_on_primary), (0, 1));
        assert_eq!(status.fallback_reason, None);
    }

    #[tokio::test]
    async fn an_error_of_the_primary_itself_is_returned() {
        let (store, primary, replica) = replicated();
        replica.fail_reads_with(unavailable);
        primary.fail_reads_with(unavailable);
        assert!(store.get(1).await.unwrap_err().is_unavailable());
    }

    fn standby(replayed: i64, replay_age_secs: Option<u64>) -> Probe {
        Probe {
            in_recovery: true,
            replayed: Some(replayed),
            replay_age: replay_age_secs.map(Duration::from_secs),
        }
    }

    fn at(start: Instant, secs: u64) -> Instant {
        start + Duration::from_secs(secs)
    }

    #[test]
    fn a_caught_up_standby_has_no_lag_however_old_its_last_replay() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        for second in 0..5 {
            // An idle primary: its position does not move, and the standby's last replay is ten minutes old.
            tracker.record_primary(at(start, second), 1000);
            assert_eq!(
                tracker.lag(standby(1000, Some(600 + second)), at(start, second)),
                Duration::ZERO
            );
        }
        let primary = Probe {
            in_recovery: false,
            replayed: None,
            replay_age: None,
        };
        assert_eq!(tracker.lag(primary, start), Duration::ZERO, "not a standby");
    }

    #[test]
    fn a_standby_that_stops_replaying_lags_from_the_last_primary_state_it_has() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        tracker.record_primary(at(start, 0), 1000);
        assert_eq!(tracker.lag(standby(1000, Some(600)), at(start, 0)), Duration::ZERO);
        // A write after ten idle minutes, which the standby does not replay (paused, or too slow).
        for second in 1..=4 {
            tracker.record_primary(at(start, second), 2000);
            let lag = tracker.lag(standby(1000, Some(600 + second)), at(start, second));
            assert_eq!(
                lag,
                Duration::from_secs(second),
                "the replay timestamp's 600 s is not the lag"
            );
        }
        // Replayed: current again.
        tracker.record_primary(at(start, 5), 2000);
        assert_eq!(tracker.lag(standby(2000, Some(1)), at(start, 5)), Duration::ZERO);
    }

    #[test]
    fn under_steady_writes_lag_is_the_replay_age() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        for second in 0..30 {
            // The primary moves on each second; the standby is always a little behind, replaying promptly.
            tracker.record_primary(at(start, second), 1000 * (second as i64 + 1));
            let lag = tracker.lag(standby(1000 * second as i64 + 900, Some(0)), at(start, second));
            assert_eq!(lag, Duration::ZERO, "at {second} s");
        }
    }

    #[test]
    fn a_restarted_standby_without_a_replay_timestamp_lags_by_its_downtime() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        tracker.record_primary(at(start, 0), 1000);
        assert_eq!(tracker.lag(standby(1000, Some(5)), at(start, 0)), Duration::ZERO);
        // Down for 30 s (probes of the standby fail) while the primary writes.
        for second in 1..=30 {
            tracker.record_primary(at(start, second), 1000 + 100 * second as i64);
        }
        // Back, not yet caught up, and with no replay timestamp since its restart.
        assert_eq!(tracker.lag(standby(1000, None), at(start, 31)), Duration::from_secs(31));
        assert_eq!(tracker.lag(standby(2500, None), at(start, 31)), Duration::from_secs(16));
        tracker.record_primary(at(start, 32), 4000);
        assert_eq!(tracker.lag(standby(4000, None), at(start, 32)), Duration::ZERO);
    }

    #[test]
    fn with_no_history_a_standby_behind_is_as_old_as_its_last_replay() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        tracker.record_primary(start, 5000);
        assert_eq!(tracker.lag(standby(1000, Some(90)), start), Duration::from_secs(90));
        // And with neither a replay timestamp nor a replayed position: how long it has been seen behind.
        assert_eq!(tracker.lag(standby(1000, None), at(start, 3)), Duration::from_secs(3));
    }
}
