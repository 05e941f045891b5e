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
//! A background monitor probes the replica every second on a connection of its own and decides whether it is
//! healthy: reachable, and no more than `DB_READ_MAX_LAG_SECS` behind. Each switch between "in use" and
//! "fallback" is logged once and counted; [`ReplicaStatus`] reports both (it is shown in `/ready`).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use super::DatabaseUrl;
use super::{Backend, BeerStore, ConnectError, DynStore, ImportRecord, PostgresStore, StoreOptions, StoreResult};
use crate::domain::{Beer, BeerFields, BeerFilter, ListQuery};

/// How often the monitor probes the replica.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// How long one probe (connecting included) may take before the replica counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// On a standby: is it one, has it replayed all it received, and how old is the last transaction it replayed.
/// An idle primary commits nothing, so the replay timestamp of a caught-up standby gets old without any lag:
/// "received = replayed" is what says it is current. (On a server that is not a standby the LSN functions are
/// NULL, and lag means nothing.)
const PROBE_SQL: &str = "SELECT pg_is_in_recovery(), \
     COALESCE(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), false), \
     COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)::float8";

tokio::task_local! {
    static READS_ON_PRIMARY: ();
}

/// Runs `work` with every catalog read it makes served by the primary: what a request that writes needs, so that
/// anything it reads back sees its own write (the replica may not have replayed it yet).
pub async fn reads_on_primary<F: Future>(work: F) -> F::Output {
    READS_ON_PRIMARY.scope((), work).await
}

fn pinned_to_primary() -> bool {
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

/// What one probe of the replica saw.
#[derive(Clone, Copy, Debug)]
struct Probe {
    in_recovery: bool,
    /// Everything received has been replayed.
    caught_up: bool,
    /// Time since the last replayed transaction committed on the primary.
    replay_age: Duration,
}

/// Turns probes into a lag. The replay age alone overstates the lag of a standby whose primary was idle: after
/// ten quiet minutes, the first write would read as ten minutes of lag until it is replayed. So a standby found
/// behind counts as lagging by the shorter of the replay age and how long it has been seen behind; under a steady
/// stream of writes it is always a little behind, and the replay age (small) is then the measure.
#[derive(Debug, Default)]
struct LagTracker {
    behind_since: Option<Instant>,
    probed: bool,
}

impl LagTracker {
    fn lag(&mut self, probe: Probe, now: Instant) -> Duration {
        // With no history (the first probe), the replay age is all there is to go on.
        let first = !std::mem::replace(&mut self.probed, true);
        if !probe.in_recovery || probe.caught_up {
            self.behind_since = None;
            return Duration::ZERO;
        }
        let since = *self.behind_since.get_or_insert_with(|| {
            if first {
                now.checked_sub(probe.replay_age).unwrap_or(now)
            } else {
                now
            }
        });
        probe.replay_age.min(now.saturating_duration_since(since))
    }
}

/// Probes the replica on a connection of its own (not the read pool, so a busy pool does not read as an outage,
/// and a refused connection shows its own error at once).
struct Monitor {
    options: PgConnectOptions,
    connection: Option<PgConnection>,
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
        let probe = match tokio::time::timeout(PROBE_TIMEOUT, self.probe()).await {
            Ok(Ok(probe)) => probe,
            Ok(Err(error)) => {
                self.connection = None;
                self.health.fall_back("unreachable".into(), Some(&error));
                return;
            }
            Err(_) => {
                self.connection = None;
                let reason = format!("unreachable: no answer within {} s", PROBE_TIMEOUT.as_secs());
                self.health.fall_back(reason, None);
                return;
            }
        };
        if !probe.in_recovery && !self.warned_not_standby {
            self.warned_not_standby = true;
            tracing::warn!("the read database is not a standby (pg_is_in_recovery() is false): is DB_READ_* right?");
        }
        let lag = self.lag.lag(probe, Instant::now());
        self.health.record_probe(probe.in_recovery, lag);
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

    async fn probe(&mut self) -> Result<Probe, sqlx::Error> {
        let connection = match &mut self.connection {
            Some(connection) => connection,
            None => self.connection.insert(PgConnection::connect_with(&self.options).await?),
        };
        let (in_recovery, caught_up, replay_age): (bool, bool, f64) =
            sqlx::query_as(PROBE_SQL).fetch_one(connection).await?;
        Ok(Probe {
            in_recovery,
            caught_up,
            replay_age: Duration::try_from_secs_f64(replay_age).unwrap_or_default(),
        })
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
        replica_url: &DatabaseUrl,
        options: &StoreOptions,
        max_lag: Duration,
    ) -> Result<Self, ConnectError> {
        let replica = PostgresStore::connect_lazy(replica_url, options)?;
        let health = Arc::new(ReplicaHealth::new(max_lag));
        let mut monitor = Monitor {
            options: replica.pg_connect_options(),
            connection: None,
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

    fn read_replica(&self) -> Option<ReplicaStatus> {
        Some(self.health.status())
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
    }

    impl Recording {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                calls: Mutex::new(Vec::new()),
                failure: Mutex::new(None),
                hang: std::sync::atomic::AtomicBool::new(false),
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

    fn probe(in_recovery: bool, caught_up: bool, replay_age_secs: u64) -> Probe {
        Probe {
            in_recovery,
            caught_up,
            replay_age: Duration::from_secs(replay_age_secs),
        }
    }

    #[test]
    fn lag_is_zero_for_a_caught_up_standby_however_old_its_last_replay() {
        let mut tracker = LagTracker::default();
        assert_eq!(tracker.lag(probe(true, true, 600), Instant::now()), Duration::ZERO);
        assert_eq!(tracker.lag(probe(false, false, 0), Instant::now()), Duration::ZERO);
    }

    #[test]
    fn after_an_idle_period_lag_grows_from_when_the_standby_was_seen_behind() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        tracker.lag(probe(true, true, 600), start);
        // The first write after ten idle minutes: the replay timestamp says 600 s, but it has been behind for 0 s.
        assert_eq!(tracker.lag(probe(true, false, 600), start), Duration::ZERO);
        assert_eq!(
            tracker.lag(probe(true, false, 603), start + Duration::from_secs(3)),
            Duration::from_secs(3)
        );
        // Replayed: current again.
        assert_eq!(
            tracker.lag(probe(true, true, 0), start + Duration::from_secs(4)),
            Duration::ZERO
        );
    }

    #[test]
    fn under_steady_writes_lag_is_the_replay_age() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        tracker.lag(probe(true, true, 0), start);
        for second in 0..30 {
            // Always a little WAL in flight, so never "caught up", but replaying promptly.
            let lag = tracker.lag(probe(true, false, 1), start + Duration::from_secs(second));
            assert!(lag <= Duration::from_secs(1), "{lag:?} at {second} s");
        }
    }

    #[test]
    fn with_no_history_a_standby_behind_is_as_old_as_its_last_replay() {
        let mut tracker = LagTracker::default();
        assert_eq!(
            tracker.lag(probe(true, false, 90), Instant::now()),
            Duration::from_secs(90)
        );
    }
}
