//! Watching the catalog for changes and the database for outages, in the background, so requests do not have to:
//!
//! - [`CatalogWatch`] holds what was learnt: the catalog's version (read every [`POLL_INTERVAL`] over a connection
//!   of its own, and at once on a PostgreSQL change notification) and whether the database is known to be down.
//!   The response cache serves an answer only if it was built at the version read within [`FRESHNESS`], so a write
//!   by any writer (another instance, an `import` process) is visible everywhere within that bound; while the
//!   version cannot be read, nothing is served from the cache unless the database is down (stale-if-error).
//! - [`WatchedStore`] wraps the real store: once a request or the probe has seen the database unavailable, every
//!   call fails at once (a 503 in microseconds instead of a connect timeout per request) until the probe reads
//!   the version again, which it tries every [`POLL_INTERVAL`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::{
    Backend, BeerStore, CatalogIndex, ChangeFeed, ChangeListener, DynStore, ImageRemoval, ImportMessage, ImportRecord,
    IndexChanges, JsonShape, RenderedRow, ReplicaStatus, StoreError, StoreResult, StoredImage,
};
use crate::domain::{Beer, BeerFields, BeerFilter, ImageMeta, ListQuery, NewImage};

/// How often the version is read (and, while the database is down, how often its return is probed).
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// A version read that takes longer is abandoned (its connection too): caching pauses rather than waits.
const READ_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a version read is trusted, counted from when the read was *issued*: a cached answer served at time t
/// was built at a version that was current at some moment after t - FRESHNESS, so it is never staler than this.
/// Poll interval + read timeout, under the 1 s the API promises.
pub const FRESHNESS: Duration = Duration::from_millis(800);

/// What the background watcher knows; shared by the store wrapper, the response cache and `/ready`.
pub struct CatalogWatch {
    epoch: Instant,
    version: AtomicI64,
    /// When the last successful version read was issued, in ms since `epoch` plus one (0: never).
    confirmed_at: AtomicU64,
    /// Orders version reads after this process's writes: every read and every write takes the next number. A
    /// millisecond clock cannot: a read issued in the same millisecond as a write would be refused, leaving the
    /// cache unusable until the next poll.
    sequence: AtomicU64,
    /// The number of this process's last write whose version is unknown (its version read failed): version reads
    /// numbered before it cannot vouch for anything.
    written: AtomicU64,
    /// The number of the read the current version comes from: a read issued earlier (it may have seen an older
    /// version) that completes later must not replace it.
    confirmed_number: AtomicU64,
    /// Serialises confirmations, which update the three fields above together.
    confirming: std::sync::Mutex<()>,
    down: AtomicBool,
    wake: Notify,
}

impl CatalogWatch {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            epoch: Instant::now(),
            version: AtomicI64::new(0),
            confirmed_at: AtomicU64::new(0),
            sequence: AtomicU64::new(0),
            written: AtomicU64::new(0),
            confirmed_number: AtomicU64::new(0),
            confirming: std::sync::Mutex::new(()),
            down: AtomicBool::new(false),
            wake: Notify::new(),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX) + 1
    }

    /// The catalog's version, when it was read recently enough to vouch for a cached answer; `None` while the
    /// change signal cannot be read (caching is suspended then).
    pub fn current_version(&self) -> Option<i64> {
        let confirmed = self.confirmed_at.load(Ordering::Acquire);
        let fresh = confirmed != 0 && self.now().saturating_sub(confirmed) <= FRESHNESS.as_millis() as u64;
        fresh.then(|| self.version.load(Ordering::Acquire))
    }

    /// The last version read, however long ago (what cached answers were built at when an outage began).
    pub fn last_version(&self) -> i64 {
        self.version.load(Ordering::Acquire)
    }

    /// Whether the database is known to be unreachable (until the probe reaches it again).
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// A request (or the probe) found the database unreachable: fail fast from now on, probe at once.
    pub fn report_unavailable(&self, error: &StoreError) {
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                error = chain(error),
                "the database is unavailable: answering 503 at once and serving cached reads until it is back"
            );
        }
        self.wake.notify_one();
    }

    /// This process wrote to the catalog and could not read the version after it: until the version is read
    /// again, nothing cached may be served, so a client still reads its own writes at once on this instance (other
    /// instances see them within the bound).
    pub fn wrote(&self) {
        self.written.store(self.next(), Ordering::Release);
        self.confirmed_at.store(0, Ordering::Release);
        self.wake.notify_one();
    }

    fn next(&self) -> u64 {
        self.sequence.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Taken just before a version read is issued; the read vouches for the version from then on.
    pub fn issue(&self) -> Ticket {
        Ticket {
            number: self.next(),
            at: self.now(),
        }
    }

    /// Records a version read issued with `ticket`, unless a read issued later has been recorded already.
    pub fn confirm(&self, version: i64, ticket: Ticket) {
        {
            let _one_at_a_time = self.confirming.lock().expect("confirming never panics");
            if ticket.number > self.written.load(Ordering::Acquire)
                && ticket.number > self.confirmed_number.load(Ordering::Acquire)
            {
                self.confirmed_number.store(ticket.number, Ordering::Release);
                self.version.store(version, Ordering::Release);
                self.confirmed_at.store(ticket.at, Ordering::Release);
                // A write may have landed between the check and the store: then this read vouches for nothing.
                if ticket.number <= self.written.load(Ordering::Acquire) {
                    self.confirmed_at.store(0, Ordering::Release);
                }
            }
        }
        if self.down.swap(false, Ordering::AcqRel) {
            tracing::info!("the database is reachable again");
        }
    }
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A version read's place among this process's writes, and when it was issued.
#[derive(Copy, Clone, Debug)]
pub struct Ticket {
    number: u64,
    at: u64,
}

/// The background tasks of a [`CatalogWatch`]; dropping this stops them.
pub struct Watcher {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

/// Starts watching `store` (the real one, not a [`WatchedStore`]): the version poller and probe, and on PostgreSQL
/// the change listener that wakes it.
pub fn spawn(store: DynStore, watch: Arc<CatalogWatch>) -> Watcher {
    let poller = tokio::spawn(poll(store.clone(), watch.clone()));
    let listener = tokio::spawn(listen(store, watch));
    Watcher {
        tasks: vec![poller, listener],
    }
}

async fn poll(store: DynStore, watch: Arc<CatalogWatch>) {
    let mut feed: Option<Box<dyn ChangeFeed>> = None;
    let mut retried = false;
    loop {
        let ticket = watch.issue();
        let read = tokio::time::timeout(READ_TIMEOUT, read_version(&*store, &mut feed)).await;
        match read {
            Ok(Ok(version)) => {
                watch.confirm(version, ticket);
                retried = false;
            }
            Ok(Err(error)) => {
                feed = None;
                // The watcher's own connection may simply have been dropped (a failover, an idle timeout): try a
                // new one at once before declaring the database down.
                if error.is_unavailable() && !retried {
                    retried = true;
                    continue;
                }
                if error.is_unavailable() {
                    watch.report_unavailable(&error);
                } else {
                    tracing::warn!(error = chain(&error), "cannot read the catalog version: caching paused");
                }
            }
            Err(_) => {
                // The connection is mid-statement: start over on a new one.
                feed = None;
                tracing::debug!("the catalog version read timed out: caching paused until a read succeeds");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(POLL_INTERVAL) => {}
            () = watch.wake.notified() => {}
        }
    }
}

async fn read_version(store: &dyn BeerStore, feed: &mut Option<Box<dyn ChangeFeed>>) -> StoreResult<i64> {
    if feed.is_none() {
        *feed = Some(store.change_feed().await?);
    }
    feed.as_mut().expect("opened above").version().await
}

async fn listen(store: DynStore, watch: Arc<CatalogWatch>) {
    loop {
        let mut listener: Box<dyn ChangeListener> = match store.change_listener().await {
            Ok(Some(listener)) => listener,
            Ok(None) => return,
            Err(error) => {
                tracing::debug!(error = chain(&error), "cannot listen for catalog changes yet");
                tokio::time::sleep(POLL_INTERVAL).await;
                continue;
            }
        };
        while listener.next().await.is_ok() {
            watch.wake.notify_one();
        }
        // Notifications sent while the connection was lost are gone: have the version read again now.
        watch.wake.notify_one();
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// A store that fails at once while the database is known to be down, and reports the outages it meets.
pub struct WatchedStore {
    inner: DynStore,
    watch: Arc<CatalogWatch>,
}

impl WatchedStore {
    pub fn new(inner: DynStore, watch: Arc<CatalogWatch>) -> Self {
        Self { inner, watch }
    }

    /// After a write (or an attempt: it may have committed before failing), the version is read at once, before
    /// the write is answered, so the client's next request finds it vouched for (it reads its own write), while
    /// requests running meanwhile, concurrent with the write, keep being served at the version before it. Only
    /// when that read fails is caching suspended until the watcher's next read. Suspending it at every write
    /// instead left the cache unusable most of the time under frequent writes (measured: a fifth of the reads
    /// bypassed it at 250 writes/s).
    async fn after_write(&self) {
        let ticket = self.watch.issue();
        match self.inner.catalog_version().await {
            Ok(version) => self.watch.confirm(version, ticket),
            Err(_) => self.watch.wrote(),
        }
    }

    fn check(&self) -> StoreResult<()> {
        if self.watch.is_down() {
            return Err(StoreError::KnownDown);
        }
        Ok(())
    }

    fn observe<T>(&self, result: StoreResult<T>) -> StoreResult<T> {
        if let Err(error) = &result
            && error.is_unavailable()
        {
            self.watch.report_unavailable(error);
        }
        result
    }
}

#[async_trait]
impl BeerStore for WatchedStore {
    fn backend(&self) -> Backend {
        self.inner.backend()
    }

    async fn migrate(&self) -> StoreResult<()> {
        self.inner.migrate().await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.check()?;
        self.observe(self.inner.ping().await)
    }

    async fn list(&self, query: &ListQuery) -> StoreResult<Vec<Beer>> {
        self.check()?;
        self.observe(self.inner.list(query).await)
    }

    async fn count(&self, filter: &BeerFilter) -> StoreResult<u64> {
        self.check()?;
        self.observe(self.inner.count(filter).await)
    }

    async fn list_json(&self, query: &ListQuery, shape: JsonShape, image_base: &str) -> StoreResult<String> {
        self.check()?;
        self.observe(self.inner.list_json(query, shape, image_base).await)
    }

    async fn get_json(&self, id: i64, shape: JsonShape, image_base: &str) -> StoreResult<Option<String>> {
        self.check()?;
        self.observe(self.inner.get_json(id, shape, image_base).await)
    }

    async fn rendered_rows(&self, ids: &[i64]) -> StoreResult<Vec<RenderedRow>> {
        self.check()?;
        self.observe(self.inner.rendered_rows(ids).await)
    }

    async fn get(&self, id: i64) -> StoreResult<Option<Beer>> {
        self.check()?;
        self.observe(self.inner.get(id).await)
    }

    async fn random(&self) -> StoreResult<Option<Beer>> {
        self.check()?;
        self.observe(self.inner.random().await)
    }

    async fn create(&self, fields: &BeerFields) -> StoreResult<Beer> {
        self.check()?;
        let result = self.inner.create(fields).await;
        self.after_write().await;
        self.observe(result)
    }

    async fn update(&self, id: i64, fields: &BeerFields) -> StoreResult<Option<Beer>> {
        self.check()?;
        let result = self.inner.update(id, fields).await;
        self.after_write().await;
        self.observe(result)
    }

    async fn delete(&self, id: i64) -> StoreResult<bool> {
        self.check()?;
        let result = self.inner.delete(id).await;
        self.after_write().await;
        self.observe(result)
    }

    async fn import(&self, records: &[ImportRecord], progress: &(dyn Fn(usize) + Send + Sync)) -> StoreResult<()> {
        self.check()?;
        let result = self.inner.import(records, progress).await;
        self.after_write().await;
        self.observe(result)
    }

    async fn import_stream(
        &self,
        messages: &mut tokio::sync::mpsc::Receiver<ImportMessage>,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> StoreResult<bool> {
        self.check()?;
        let result = self.inner.import_stream(messages, progress).await;
        self.after_write().await;
        self.observe(result)
    }

    async fn catalog_version(&self) -> StoreResult<i64> {
        self.check()?;
        self.observe(self.inner.catalog_version().await)
    }

    async fn load_index(&self) -> StoreResult<CatalogIndex> {
        self.check()?;
        self.observe(self.inner.load_index().await)
    }

    async fn load_index_changes(&self, since: i64, limit: usize) -> StoreResult<Option<IndexChanges>> {
        self.check()?;
        self.observe(self.inner.load_index_changes(since, limit).await)
    }

    async fn get_many(&self, ids: &[i64]) -> StoreResult<Vec<Beer>> {
        self.check()?;
        self.observe(self.inner.get_many(ids).await)
    }

    // Image writes update the beer's row, so they move the catalog version like any other write.
    async fn set_image(&self, beer_id: i64, image: &NewImage) -> StoreResult<Option<Beer>> {
        self.check()?;
        let result = self.inner.set_image(beer_id, image).await;
        self.after_write().await;
        self.observe(result)
    }

    async fn remove_image(&self, beer_id: i64) -> StoreResult<ImageRemoval> {
        self.check()?;
        let result = self.inner.remove_image(beer_id).await;
        self.after_write().await;
        self.observe(result)
    }

    async fn image_meta(&self, sha256: &str) -> StoreResult<Option<ImageMeta>> {
        self.check()?;
        self.observe(self.inner.image_meta(sha256).await)
    }

    async fn image(&self, sha256: &str) -> StoreResult<Option<StoredImage>> {
        self.check()?;
        self.observe(self.inner.image(sha256).await)
    }

    async fn has_images(&self) -> StoreResult<bool> {
        self.check()?;
        self.observe(self.inner.has_images().await)
    }

    fn read_replica(&self) -> Option<ReplicaStatus> {
        self.inner.read_replica()
    }

    async fn close(&self) {
        self.inner.close().await;
    }

    async fn change_feed(&self) -> StoreResult<Box<dyn ChangeFeed>> {
        self.inner.change_feed().await
    }

    async fn change_listener(&self) -> StoreResult<Option<Box<dyn ChangeListener>>> {
        self.inner.change_listener().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_outage_is_reported_once_in_the_error_chain() {
        let text = chain(&StoreError::KnownDown);
        assert_eq!(text.matches("known to be down").count(), 1, "{text}");
        assert!(StoreError::KnownDown.is_unavailable());
    }

    #[test]
    fn a_read_issued_after_a_write_vouches_for_it_even_in_the_same_millisecond() {
        let watch = CatalogWatch::new();
        let before = watch.issue();
        watch.wrote();
        watch.confirm(1, before);
        assert_eq!(
            watch.current_version(),
            None,
            "a read issued before the write vouches for nothing"
        );
        let after = watch.issue();
        watch.confirm(2, after);
        assert_eq!(watch.current_version(), Some(2));
    }

    #[test]
    fn a_read_issued_earlier_but_answered_later_cannot_take_the_version_back() {
        let watch = CatalogWatch::new();
        // The poller's read is issued before a write commits, the writer's after it; the writer's answers first.
        let poller = watch.issue();
        let writer = watch.issue();
        watch.confirm(8, writer);
        watch.confirm(7, poller);
        assert_eq!(watch.current_version(), Some(8));
        assert_eq!(watch.last_version(), 8);
        let next = watch.issue();
        watch.confirm(9, next);
        assert_eq!(watch.current_version(), Some(9));
    }
}
