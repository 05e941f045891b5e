//! [`ReadModel`]: the catalog reads layer that answers list and count queries, sorts and random picks from the
//! in-process index ([`CatalogIndex`]), single beers and list pages from its cache of the beers' stored renderings
//! ([`RenderedRowCache`]), and everything else from the database it wraps.
//!
//! Freshness: the index answers only at the catalog's current version. On the server that version comes from
//! [`Freshness`] (the change signal read in the background, pushed by PostgreSQL on commit, confirmed again at
//! once after this process's own writes), so a request costs no database round trip and still sees this process's
//! writes at once and any other writer's (another task, an `import` job) within the signal's bound, under the 1 s
//! the API promises. When the version is not confirmed (not read recently, or a request that writes and must read
//! the primary), it is read from the database, as a read model without [`Freshness`] always does. When
//! the index is behind, the request waits briefly for the refresh that patches it (milliseconds after a few
//! writes), and otherwise goes to the database (the same SQL as without the read model) while it catches up; so
//! a process that has not finished building its index (just started, or after a bulk import) still answers, only
//! more slowly.
//!
//! A refresh patches the index when it can: the database's change log names the beers changed since the index's
//! version, and only those are read and merged in ([`CatalogIndex::patched`]), so a write costs milliseconds
//! instead of a full rebuild's seconds (15-25 s at a million beers). It rebuilds fully when there is no index yet,
//! when the log no longer covers the index's version, after a bulk write (an import, which the log does not
//! record row by row), or when more than [`patch_limit`] beers changed (then reading them all costs about as much
//! as reading everything).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;

mod refresh;

use self::refresh::{follow, spawn_refresh};
use super::evaluator::Evaluator;
use super::rendered_row_cache::RenderedRowCache;
use super::warmup::{Warmth, Warmup, WarmupSettings};
use super::{CatalogIndex, IdPage};
use crate::domain::{Beer, BeerFilter, ImageMeta, IngredientKind, IngredientName, ListQuery, SortField};
use crate::observability::{Metrics, names};
use crate::storage::change_feed::ChangeFeed;
use crate::storage::dependencies::{self, Dependency};
use crate::storage::freshness::Freshness;
use crate::storage::{
    CatalogReads, ReadDatabase, RenderedRow, StoreResult, StoredImage, StoredRendition, read_preference, rendered,
    rendered::JsonShape,
};

/// How long a request waits for the refresh that brings the index to the catalog's version before it goes to the
/// database instead: a patch after a few writes takes milliseconds (a million beers: tens), while some queries
/// cost the database a scan of every beer.
const REFRESH_WAIT: Duration = Duration::from_millis(200);

pub struct ReadModel {
    inner: Arc<dyn ReadDatabase>,
    shared: Arc<Shared>,
    /// Confirms the current version without a round trip (see the module documentation); without it every query
    /// reads the version from the database.
    freshness: Option<Arc<Freshness>>,
}

struct Shared {
    index: RwLock<Option<Arc<CatalogIndex>>>,
    building: AtomicBool,
    /// Counts finished refresh attempts (installed, failed or found nothing new), waking requests waiting for one.
    attempts: tokio::sync::watch::Sender<u64>,
    /// Cached rendered rows, valid for the installed index: a refresh forgets the ones it changed (a rebuild, all),
    /// under the index's write lock, and a row read from the database is kept only under its read lock and if
    /// the index it was read for is still the one installed (see [`Shared::keep_if_installed`]).
    rendered_rows: RenderedRowCache,
    /// Each installed patch's changed beers, published under the index's write lock with the index it installs.
    feed: Arc<ChangeFeed>,
    evaluator: Evaluator,
    patched: AtomicU64,
    rebuilt: AtomicU64,
    metrics: ReadModelMetrics,
    /// The first build's progress and outcome: whether the process should be given traffic yet.
    warmup: Warmup,
}

/// The read model's refreshes and its rendered-row lookups, as metrics.
struct ReadModelMetrics {
    patches: metrics::Counter,
    rebuilds: metrics::Counter,
    patch_duration: metrics::Histogram,
    rebuild_duration: metrics::Histogram,
    row_hits: metrics::Counter,
    row_misses: metrics::Counter,
}

impl ReadModelMetrics {
    fn new(metrics: &Metrics) -> Self {
        let kind = |kind: &'static str| [("kind", kind)];
        let outcome = |outcome: &'static str| [("outcome", outcome)];
        Self {
            patches: metrics.counter(names::READ_MODEL_REFRESHES, &kind("patch")),
            rebuilds: metrics.counter(names::READ_MODEL_REFRESHES, &kind("rebuild")),
            patch_duration: metrics.histogram(names::READ_MODEL_REFRESH_DURATION, &kind("patch")),
            rebuild_duration: metrics.histogram(names::READ_MODEL_REFRESH_DURATION, &kind("rebuild")),
            row_hits: metrics.counter(names::ROW_CACHE_LOOKUPS, &outcome("hit")),
            row_misses: metrics.counter(names::ROW_CACHE_LOOKUPS, &outcome("miss")),
        }
    }
}

impl Shared {
    fn new(rendered_rows: RenderedRowCache, metrics: ReadModelMetrics, warmup: WarmupSettings) -> Self {
        Self {
            index: RwLock::default(),
            building: AtomicBool::default(),
            attempts: tokio::sync::watch::Sender::new(0),
            rendered_rows,
            feed: ChangeFeed::new(),
            evaluator: Evaluator::start(),
            patched: AtomicU64::default(),
            rebuilt: AtomicU64::default(),
            metrics,
            warmup: Warmup::start(warmup),
        }
    }

    /// Caches rows read from the database for the index at `version`, if that is still the installed one: a
    /// refresh installed since may have forgotten these very beers (changed after they were read), and a row kept
    /// after that would outlive the change. The read lock orders this against the refresh's forgetting.
    fn keep_if_installed(&self, version: i64, rows: &[Arc<RenderedRow>]) {
        let installed = self.index.read().expect("the index lock is never poisoned");
        if installed.as_ref().is_some_and(|index| index.version() == version) {
            rows.iter().for_each(|row| self.rendered_rows.keep(row.clone()));
        }
    }
}

/// How many times the index was brought up to date, by kind (for tests and diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RefreshCounts {
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

impl ReadModel {
    /// Wraps `inner` and starts building the index in the background. With `freshness` (the server), the version
    /// comes from it, and the index is refreshed as soon as it moves, so the first request after a change usually
    /// finds the index already current; without, every query reads the version from the database. Keeps up to
    /// `rendered_row_bytes` of rendered rows (0: none, every page is read from the database).
    pub fn start(
        inner: Arc<dyn ReadDatabase>,
        freshness: Option<Arc<Freshness>>,
        rendered_row_bytes: u64,
    ) -> Arc<Self> {
        Self::start_with_metrics(
            inner,
            freshness,
            rendered_row_bytes,
            WarmupSettings::default(),
            &Metrics::disabled(),
        )
    }

    /// As [`ReadModel::start`], warming up as `warmup` says, recording refreshes, rendered-row lookups, the
    /// warm-up's state and the version lag into `metrics`.
    pub fn start_with_metrics(
        inner: Arc<dyn ReadDatabase>,
        freshness: Option<Arc<Freshness>>,
        rendered_row_bytes: u64,
        warmup: WarmupSettings,
        metrics: &Metrics,
    ) -> Arc<Self> {
        let shared = Shared::new(
            RenderedRowCache::new(rendered_row_bytes),
            ReadModelMetrics::new(metrics),
            warmup,
        );
        let model = Arc::new(Self {
            inner,
            shared: Arc::new(shared),
            freshness: freshness.clone(),
        });
        if let Some(freshness) = &freshness {
            // Versions behind the change signal's last read (all of them while no index is built).
            let (weak, freshness) = (Arc::downgrade(&model), freshness.clone());
            let lag = metrics.gauge(names::READ_MODEL_LAG, &[] as &[(&str, &str)]);
            metrics.sample_on_render(move || {
                if let Some(model) = weak.upgrade() {
                    let built = model.installed().map_or(0, |index| index.version());
                    lag.set((freshness.last_version() - built).max(0) as f64);
                }
            });
        }
        let weak = Arc::downgrade(&model);
        let states = ["building", "warm", "serving_from_sql"]
            .map(|state| (state, metrics.gauge(names::READ_MODEL_WARMUP, &[("state", state)])));
        metrics.sample_on_render(move || {
            if let Some(model) = weak.upgrade() {
                let now = model.warmth().state();
                states
                    .iter()
                    .for_each(|(state, gauge)| gauge.set(f64::from(u8::from(*state == now))));
            }
        });
        model.start_refresh();
        if let Some(freshness) = freshness {
            tokio::spawn(follow(Arc::downgrade(&model), freshness));
        }
        model
    }

    /// Whether an index is loaded and current (for tests and readiness reporting).
    pub async fn is_current(&self) -> StoreResult<bool> {
        Ok(self.current().await?.is_some())
    }

    /// How far the first build has come, and whether the process should be given traffic yet
    /// ([`super::warmup`]).
    pub fn warmth(&self) -> Warmth {
        self.shared.warmup.warmth()
    }

    /// How many refreshes patched the index and how many rebuilt it, so far.
    pub fn refreshes(&self) -> RefreshCounts {
        RefreshCounts {
            patched: self.shared.patched.load(Ordering::Acquire),
            rebuilt: self.shared.rebuilt.load(Ordering::Acquire),
        }
    }

    /// What each refresh changed, for the caches of answers read from this model ([`ChangeFeed`]).
    pub fn change_feed(&self) -> Arc<ChangeFeed> {
        self.shared.feed.clone()
    }

    /// Rendered rows cached, and their bytes (for tests and diagnostics).
    pub fn rendered_rows_held(&self) -> (usize, u64) {
        self.shared.rendered_rows.held()
    }

    /// The index, when it is at the catalog's current version (after waiting briefly for a refresh under way);
    /// otherwise `None`, and a refresh is under way.
    async fn current(&self) -> StoreResult<Option<Arc<CatalogIndex>>> {
        let version = match self.confirmed_version() {
            Some(version) => version,
            None => self.inner.catalog_version().await?,
        };
        let index = self.installed();
        // A newer index than the signal is fine: it was read from the database after the signal's read.
        if let Some(index) = index.filter(|index| index.version() >= version) {
            return Ok(Some(index));
        }
        Ok(self.refreshed_to(version).await)
    }

    /// The version [`Freshness`] confirms, when it does and this request may use it: a request that writes reads
    /// the primary ([`read_preference`]), whose version may not be confirmed yet; and once the database is known
    /// to be down, nothing is answered as current (the response cache alone serves what it has, marked stale).
    fn confirmed_version(&self) -> Option<i64> {
        let freshness = self.freshness.as_ref()?;
        if read_preference::primary_required() || freshness.is_down() {
            return None;
        }
        freshness.current_version()
    }

    fn installed(&self) -> Option<Arc<CatalogIndex>> {
        self.shared
            .index
            .read()
            .expect("the index lock is never poisoned")
            .clone()
    }

    /// Starts a refresh and, when there is an index to patch, waits up to [`REFRESH_WAIT`] for one at `version` or
    /// later: at most two attempts, since the first may have started before the write it must show. A request
    /// pinned to the primary does not wait: the index is read where reads are served (a replica), which may not
    /// reach the primary's version for a while.
    async fn refreshed_to(&self, version: i64) -> Option<Arc<CatalogIndex>> {
        let mut attempts = self.shared.attempts.subscribe();
        let patchable = self.installed().is_some();
        self.start_refresh();
        if !patchable || read_preference::primary_required() {
            return None;
        }
        let deadline = tokio::time::Instant::now() + REFRESH_WAIT;
        for _ in 0..2 {
            if !matches!(tokio::time::timeout_at(deadline, attempts.changed()).await, Ok(Ok(()))) {
                return None;
            }
            if let Some(index) = self.installed().filter(|index| index.version() >= version) {
                return Some(index);
            }
            self.start_refresh();
        }
        None
    }

    /// The rendered rows of `ids` (a page the index chose, in its order) at the index's version: the cached ones
    /// where they are that version's, the others read from the database in one statement and cached. A beer
    /// deleted since is left out, as the database's answer would.
    async fn rendered_rows_of(&self, index: &CatalogIndex, ids: &[i64]) -> StoreResult<Vec<Arc<RenderedRow>>> {
        let mut rows: Vec<Option<Arc<RenderedRow>>> = ids
            .iter()
            .map(|&id| {
                index
                    .updated_of(id)
                    .and_then(|updated| self.shared.rendered_rows.get(id, updated))
            })
            .collect();
        let mut missing: Vec<i64> = ids
            .iter()
            .zip(&rows)
            .filter(|(_, row)| row.is_none())
            .map(|(id, _)| *id)
            .collect();
        let metrics = &self.shared.metrics;
        metrics.row_hits.increment((ids.len() - missing.len()) as u64);
        metrics.row_misses.increment(missing.len() as u64);
        if !missing.is_empty() {
            missing.sort_unstable();
            let read: Vec<Arc<RenderedRow>> = self
                .inner
                .rendered_rows(&missing)
                .await?
                .into_iter()
                .map(Arc::new)
                .collect();
            self.shared.keep_if_installed(index.version(), &read);
            let read: std::collections::HashMap<i64, Arc<RenderedRow>> =
                read.into_iter().map(|row| (row.id, row)).collect();
            for (row, id) in rows.iter_mut().zip(ids) {
                if row.is_none() {
                    *row = read.get(id).cloned();
                }
            }
        }
        Ok(rows.into_iter().flatten().collect())
    }

    fn start_refresh(&self) {
        spawn_refresh(self.inner.clone(), self.shared.clone(), self.freshness.clone());
    }

    /// Evaluates a query on the read model's threads ([`Evaluator`]): at a million beers a count or a sort walks
    /// a million rows, which must not hold up the async workers serving other requests.
    async fn evaluate(&self, index: Arc<CatalogIndex>, query: &ListQuery, count: bool) -> StoreResult<IdPage> {
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

/// Records that the answer depends on the page of `query` the index chose (`ids`, in the query's order).
fn record_page(query: &ListQuery, ids: &[i64]) {
    let in_id_order = query.sort.first().is_none_or(|key| key.field == SortField::Id);
    let span = ids.iter().min().zip(ids.iter().max()).map(|(low, high)| (*low, *high));
    dependencies::record(Dependency::Page {
        filter: query.filter.clone(),
        in_id_order,
        span,
    });
}

#[async_trait]
impl CatalogReads for ReadModel {
    async fn list(&self, query: &ListQuery) -> StoreResult<Vec<Beer>> {
        let Some(index) = self.current().await? else {
            dependencies::record_unversioned();
            return self.inner.list(query).await;
        };
        let page = self.evaluate(index, query, false).await?;
        record_page(query, &page.ids);
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
            dependencies::record_unversioned();
            return self.inner.count(filter).await;
        };
        dependencies::record(Dependency::Count(filter.clone()));
        let query = ListQuery {
            per_page: 0,
            filter: filter.clone(),
            ..ListQuery::default()
        };
        let page = self.evaluate(index, &query, true).await?;
        Ok(page.total.unwrap_or_default())
    }

    /// Counted on the index, on its threads: a walk over the matching beers' interned terms.
    async fn ingredient_names(&self, kind: IngredientKind, filter: &BeerFilter) -> StoreResult<Vec<IngredientName>> {
        let Some(index) = self.current().await? else {
            return self.inner.ingredient_names(kind, filter).await;
        };
        let filter = filter.clone();
        self.shared
            .evaluator
            .run(move || index.ingredient_names(kind, &filter))
            .await
    }

    /// The page's ids from the index, then their rendered rows: cached, or read by primary key.
    async fn list_json(&self, query: &ListQuery, shape: JsonShape, image_base: &str) -> StoreResult<String> {
        let Some(index) = self.current().await? else {
            dependencies::record_unversioned();
            return self.inner.list_json(query, shape, image_base).await;
        };
        let page = self.evaluate(index.clone(), query, false).await?;
        record_page(query, &page.ids);
        if page.ids.is_empty() {
            return Ok("[]".to_owned());
        }
        if !self.shared.rendered_rows.enabled() {
            return self
                .inner
                .list_json(&Self::by_ids(query, page.ids), shape, image_base)
                .await;
        }
        let rows = self.rendered_rows_of(&index, &page.ids).await?;
        Ok(rendered::json_array(&rows, shape, image_base))
    }

    /// From the cached rendered row, when there is one; a beer the current index does not hold is not looked for.
    async fn get_json(&self, id: i64, shape: JsonShape, image_base: &str) -> StoreResult<Option<String>> {
        dependencies::record(Dependency::Beer(id));
        if !self.shared.rendered_rows.enabled() {
            return self.inner.get_json(id, shape, image_base).await;
        }
        let Some(index) = self.current().await? else {
            return self.inner.get_json(id, shape, image_base).await;
        };
        if index.updated_of(id).is_none() {
            return Ok(None);
        }
        let rows = self.rendered_rows_of(&index, &[id]).await?;
        Ok(rows.first().map(|row| row.to_json(shape, image_base)))
    }

    async fn rendered_rows(&self, ids: &[i64]) -> StoreResult<Vec<RenderedRow>> {
        dependencies::record_beers(ids);
        self.inner.rendered_rows(ids).await
    }

    async fn get(&self, id: i64) -> StoreResult<Option<Beer>> {
        dependencies::record(Dependency::Beer(id));
        self.inner.get(id).await
    }

    async fn random(&self) -> StoreResult<Option<Beer>> {
        dependencies::record(Dependency::Catalog);
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

    async fn get_many(&self, ids: &[i64]) -> StoreResult<Vec<Beer>> {
        dependencies::record_beers(ids);
        self.inner.get_many(ids).await
    }

    async fn image_meta(&self, sha256: &str) -> StoreResult<Option<ImageMeta>> {
        // An image goes when the last beer using it changes: any beer's write.
        dependencies::record(Dependency::Catalog);
        self.inner.image_meta(sha256).await
    }

    async fn image(&self, sha256: &str) -> StoreResult<Option<StoredImage>> {
        // An image goes when the last beer using it changes: any beer's write.
        dependencies::record(Dependency::Catalog);
        self.inner.image(sha256).await
    }

    async fn image_rendition(&self, sha256: &str, width: u32) -> StoreResult<Option<StoredRendition>> {
        // An image goes when the last beer using it changes: any beer's write.
        dependencies::record(Dependency::Catalog);
        self.inner.image_rendition(sha256, width).await
    }

    async fn has_images(&self) -> StoreResult<bool> {
        // An image goes when the last beer using it changes: any beer's write.
        dependencies::record(Dependency::Catalog);
        self.inner.has_images().await
    }
}
