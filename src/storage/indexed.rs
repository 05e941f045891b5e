//! [`IndexedStore`]: a store that answers list and count queries from the in-process read model
//! ([`super::read_model`]) and everything else from the database it wraps.
//!
//! Freshness: every list or count first reads the catalog's change counter (one primary-key read). When the index
//! was built at that version, it answers; otherwise the query goes to the database (the same SQL as without the
//! read model) and a refresh starts in the background, one at a time. So an answer is never older than the
//! database's, whichever process changed the catalog (another task, an `import` job), and a process that has not
//! finished building its index (just started, or just after a write) still answers, only more slowly.
//!
//! A refresh patches the index when it can: the database's change log names the beers changed since the index's
//! version, and only those are read and merged in ([`CatalogIndex::patched`]), so a write costs milliseconds of
//! SQL fallback instead of a full rebuild's seconds (15-25 s at a million beers). It rebuilds fully when there
//! is no index yet, when the log no longer covers the index's version, after a bulk write (an import, which the
//! log does not record row by row), or when more than [`patch_limit`] beers changed (then reading them all costs
//! about as much as reading everything).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::read_model::{CatalogIndex, IdPage, IndexChanges};
use super::watch::CatalogWatch;
use super::{
    Backend, BeerStore, ChangeFeed, ChangeListener, DynStore, ImageRemoval, ImportMessage, ImportRecord, JsonShape,
    ReplicaStatus, StoreResult, StoredImage,
};
use crate::domain::{Beer, BeerFields, BeerFilter, ImageMeta, ListQuery, NewImage};

pub struct IndexedStore {
    inner: DynStore,
    shared: Arc<Shared>,
}

struct Shared {
    index: RwLock<Option<Arc<CatalogIndex>>>,
    building: AtomicBool,
    evaluator: Evaluator,
    patched: AtomicU64,
    rebuilt: AtomicU64,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            index: RwLock::default(),
            building: AtomicBool::default(),
            evaluator: Evaluator::start(),
            patched: AtomicU64::default(),
            rebuilt: AtomicU64::default(),
        }
    }
}

type Evaluation = Box<dyn FnOnce() + Send>;

/// Threads that evaluate queries on the index, one per core, taking them in arrival order. An evaluation is pure
/// CPU, so more at once would only slice the same cores finer (every request slower); and each holds its matches
/// while it runs (a sort at a million beers: tens of MB), which on the blocking pool's many threads ends up kept
/// by as many allocator arenas (measured: 950 MB peak RSS under 8 connections of deep sorts, instead of ~300).
struct Evaluator {
    queue: std::sync::mpsc::Sender<Evaluation>,
}

impl Evaluator {
    fn start() -> Self {
        let (queue, jobs) = std::sync::mpsc::channel::<Evaluation>();
        let jobs = Arc::new(std::sync::Mutex::new(jobs));
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        for n in 0..cores {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("read-model-{n}"))
                .spawn(move || {
                    loop {
                        // Ends when the store (the sender) is dropped.
                        let job = match jobs.lock().expect("a job never panics holding the queue").recv() {
                            Ok(job) => job,
                            Err(_) => return,
                        };
                        job();
                    }
                })
                .expect("the read model's threads start");
        }
        Self { queue }
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> T {
        let (done, result) = tokio::sync::oneshot::channel();
        self.queue
            .send(Box::new(move || {
                let _ = done.send(work());
            }))
            .expect("the read model's threads run while the store exists");
        result.await.expect("evaluating a filter does not panic")
    }
}

/// How many times the index was brought up to date, by kind (for tests and diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Refreshes {
    /// From the previous index and the changed beers.
    pub patched: u64,
    /// From every beer.
    pub rebuilt: u64,
}

/// The most changed beers a patch reads: 5% of the catalog, and at least 1,000 (a small catalog rebuilds in
/// milliseconds either way). Past that, reading the changed rows one by one approaches reading them all.
pub fn patch_limit(beers: usize) -> usize {
    (beers / 20).max(1_000)
}

/// A refresh's outcome.
enum Refreshed {
    Patched { changed: usize },
    Rebuilt,
}

impl IndexedStore {
    /// Wraps `inner` and starts building the index in the background.
    pub fn new(inner: DynStore) -> Arc<Self> {
        let store = Arc::new(Self {
            inner,
            shared: Arc::default(),
        });
        store.start_refresh();
        store
    }

    /// Like [`IndexedStore::new`], and also refreshes as soon as the catalog's change signal (the watcher the
    /// response cache uses) moves, so the first request after a change usually finds the index already current.
    pub fn watching(inner: DynStore, watch: Arc<CatalogWatch>) -> Arc<Self> {
        let store = Self::new(inner);
        let weak = Arc::downgrade(&store);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                // Ends with the store.
                let Some(store) = weak.upgrade() else { return };
                let built = store
                    .shared
                    .index
                    .read()
                    .expect("the index lock is never poisoned")
                    .as_ref()
                    .map(|i| i.version());
                if let Some(version) = watch.current_version()
                    && built != Some(version)
                {
                    store.start_refresh();
                }
            }
        });
        store
    }

    /// Whether an index is loaded and current (for tests and readiness reporting).
    pub async fn is_current(&self) -> StoreResult<bool> {
        Ok(self.current().await?.is_some())
    }

    /// How many refreshes patched the index and how many rebuilt it, so far.
    pub fn refreshes(&self) -> Refreshes {
        Refreshes {
            patched: self.shared.patched.load(Ordering::Acquire),
            rebuilt: self.shared.rebuilt.load(Ordering::Acquire),
        }
    }

    /// The index, when it is at the catalog's current version; otherwise `None`, and a refresh is under way.
    async fn current(&self) -> StoreResult<Option<Arc<CatalogIndex>>> {
        let version = self.inner.catalog_version().await?;
        let index = self
            .shared
            .index
            .read()
            .expect("the index lock is never poisoned")
            .clone();
        match index {
            Some(index) if index.version() == version => Ok(Some(index)),
            _ => {
                self.start_refresh();
                Ok(None)
            }
        }
    }

    fn start_refresh(&self) {
        if self.shared.building.swap(true, Ordering::AcqRel) {
            return;
        }
        let (inner, shared) = (self.inner.clone(), self.shared.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let previous = shared.index.read().expect("the index lock is never poisoned").clone();
            match Self::refreshed(&inner, previous).await {
                Ok(Some((index, how))) => {
                    let elapsed_ms = started.elapsed().as_millis() as u64;
                    let (beers, version) = (index.len(), index.version());
                    match how {
                        Refreshed::Patched { changed } => {
                            tracing::debug!(beers, version, changed, elapsed_ms, "read model patched");
                            shared.patched.fetch_add(1, Ordering::AcqRel);
                        }
                        Refreshed::Rebuilt => {
                            tracing::info!(beers, version, elapsed_ms, "read model built");
                            shared.rebuilt.fetch_add(1, Ordering::AcqRel);
                        }
                    }
                    *shared.index.write().expect("the index lock is never poisoned") = Some(Arc::new(index));
                }
                Ok(None) => {}
                // Not fatal: queries keep going to the database, and the next one retries.
                Err(error) => tracing::warn!(error = %error, "read model refresh failed; queries use the database"),
            }
            shared.building.store(false, Ordering::Release);
        });
    }

    /// The index at the database's current version: `previous` patched with what changed since, or a full build
    /// when that cannot be done; `None` when `previous` is already current.
    async fn refreshed(
        inner: &DynStore,
        previous: Option<Arc<CatalogIndex>>,
    ) -> StoreResult<Option<(CatalogIndex, Refreshed)>> {
        if let Some(previous) = previous {
            let changes = match inner
                .load_index_changes(previous.version(), patch_limit(previous.len()))
                .await
            {
                Ok(changes) => changes,
                // The full build below reports the error if the database is really unavailable.
                Err(error) => {
                    tracing::debug!(%error, "reading the change log failed; rebuilding the read model");
                    None
                }
            };
            if let Some(changes) = changes {
                if changes.version == previous.version() {
                    return Ok(None);
                }
                let changed = changes.ids.len();
                // Copying the columns takes tens of milliseconds at a million beers: off the async workers.
                let index = tokio::task::spawn_blocking(move || previous.patched(&changes))
                    .await
                    .expect("patching the index does not panic");
                return Ok(Some((index, Refreshed::Patched { changed })));
            }
        }
        Ok(Some((inner.load_index().await?, Refreshed::Rebuilt)))
    }

    /// Evaluates a query on the read model's threads ([`Evaluator`]): at a million beers a count or a sort walks
    /// a million rows, which must not hold up the async workers serving other requests.
    async fn evaluate(&self, index: Arc<CatalogIndex>, query: &ListQuery, count: bool) -> IdPage {
        let (filter, sort) = (query.filter.clone(), query.sort.clone());
        let (offset, limit) = (query.offset(), u64::from(query.per_page));
        self.shared
            .evaluator
            .run(move || index.page(&filter, &sort, offset, limit, count))
            .await
    }

    /// The query that fetches a page the index chose: its ids, in the query's order (the database orders those
    /// few rows by the same keys, so the page comes back in the order the index found).
    fn by_ids(query: &ListQuery, ids: Vec<i64>) -> ListQuery {
        ListQuery {
            page: 1,
            per_page: u32::try_from(ids.len()).unwrap_or(u32::MAX),
            filter: BeerFilter {
                ids: Some(ids),
                ..BeerFilter::default()
            },
            sort: query.sort.clone(),
        }
    }
}

#[async_trait]
impl BeerStore for IndexedStore {
    fn backend(&self) -> Backend {
        self.inner.backend()
    }

    async fn migrate(&self) -> StoreResult<()> {
        self.inner.migrate().await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }

    async fn list(&self, query: &ListQuery) -> StoreResult<Vec<Beer>> {
        let Some(index) = self.current().await? else {
            return self.inner.list(query).await;
        };
        let page = self.evaluate(index, query, false).await;
        if page.ids.is_empty() {
            return Ok(Vec::new());
        }
        if query.sort.is_empty() {
            return self.inner.get_many(&page.ids).await;
        }
        self.inner.list(&Self::by_ids(query, page.ids)).await
    }

    async fn count(&self, filter: &BeerFilter) -> StoreResult<u64> {
        let Some(index) = self.current().await? else {
            return self.inner.count(filter).await;
        };
        let query = ListQuery {
            per_page: 0,
            filter: filter.clone(),
            ..ListQuery::default()
        };
        let page = self.evaluate(index, &query, true).await;
        Ok(page.total.unwrap_or_default())
    }

    /// The page's ids from the index, then their stored renderings by primary key.
    async fn list_json(&self, query: &ListQuery, shape: JsonShape, image_base: &str) -> StoreResult<String> {
        let Some(index) = self.current().await? else {
            return self.inner.list_json(query, shape, image_base).await;
        };
        let page = self.evaluate(index, query, false).await;
        if page.ids.is_empty() {
            return Ok("[]".to_owned());
        }
        self.inner
            .list_json(&Self::by_ids(query, page.ids), shape, image_base)
            .await
    }

    async fn get_json(&self, id: i64, shape: JsonShape, image_base: &str) -> StoreResult<Option<String>> {
        self.inner.get_json(id, shape, image_base).await
    }

    fn read_replica(&self) -> Option<ReplicaStatus> {
        self.inner.read_replica()
    }

    async fn get(&self, id: i64) -> StoreResult<Option<Beer>> {
        self.inner.get(id).await
    }

    async fn random(&self) -> StoreResult<Option<Beer>> {
        // `ORDER BY random()` reads the whole table; the index picks an id in constant time.
        let picked = self
            .current()
            .await?
            .and_then(|index| index.random_id(&mut rand::thread_rng()));
        if let Some(id) = picked
            && let Some(beer) = self.inner.get(id).await?
        {
            return Ok(Some(beer));
        }
        self.inner.random().await
    }

    async fn create(&self, fields: &BeerFields) -> StoreResult<Beer> {
        self.inner.create(fields).await
    }

    async fn update(&self, id: i64, fields: &BeerFields) -> StoreResult<Option<Beer>> {
        self.inner.update(id, fields).await
    }

    async fn delete(&self, id: i64) -> StoreResult<bool> {
        self.inner.delete(id).await
    }

    async fn import(&self, records: &[ImportRecord], progress: &(dyn Fn(usize) + Send + Sync)) -> StoreResult<()> {
        self.inner.import(records, progress).await
    }

    async fn set_image(&self, beer_id: i64, image: &NewImage) -> StoreResult<Option<Beer>> {
        self.inner.set_image(beer_id, image).await
    }

    async fn remove_image(&self, beer_id: i64) -> StoreResult<ImageRemoval> {
        self.inner.remove_image(beer_id).await
    }

    async fn image_meta(&self, sha256: &str) -> StoreResult<Option<ImageMeta>> {
        self.inner.image_meta(sha256).await
    }

    async fn image(&self, sha256: &str) -> StoreResult<Option<StoredImage>> {
        self.inner.image(sha256).await
    }

    async fn has_images(&self) -> StoreResult<bool> {
        self.inner.has_images().await
    }

    async fn import_stream(
        &self,
        messages: &mut tokio::sync::mpsc::Receiver<ImportMessage>,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> StoreResult<bool> {
        self.inner.import_stream(messages, progress).await
    }

    async fn close(&self) {
        self.inner.close().await
    }

    async fn change_feed(&self) -> StoreResult<Box<dyn ChangeFeed>> {
        self.inner.change_feed().await
    }

    async fn change_listener(&self) -> StoreResult<Option<Box<dyn ChangeListener>>> {
        self.inner.change_listener().await
    }

    async fn catalog_version(&self) -> StoreResult<i64> {
        self.inner.catalog_version().await
    }

    async fn load_index(&self) -> StoreResult<CatalogIndex> {
        self.inner.load_index().await
    }

    async fn load_index_changes(&self, since: i64, limit: usize) -> StoreResult<Option<IndexChanges>> {
        self.inner.load_index_changes(since, limit).await
    }

    async fn get_many(&self, ids: &[i64]) -> StoreResult<Vec<Beer>> {
        self.inner.get_many(ids).await
    }
}
