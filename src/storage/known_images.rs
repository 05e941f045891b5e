//! The names of the images the catalog holds, known without a round trip: a request for an image name the catalog
//! does not hold (`GET /images/<random sha256>.png`, which is exempt from the rate limit) is answered `None` here,
//! so a flood of made-up names costs the database nothing.
//!
//! The set is read in one snapshot with the catalog version it holds at ([`ChangeSource::load_image_names`]), and
//! trusted only while [`Freshness`] confirms that same version, like every cached answer: a name is stored only by
//! a write, and every write moves the version. While the version has moved on (or cannot be confirmed), lookups go
//! to the database as before, and the set is read again, at most once a [`RELOAD_INTERVAL`] (an import moving the
//! version many times a second must not turn into as many reads of the whole set).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::freshness::Freshness;
use super::{CatalogReads, ChangeSource, JsonShape, RenderedRow, StoreResult, StoredImage, StoredRendition};
use crate::domain::{Beer, BeerFilter, ImageMeta, IngredientKind, IngredientName, ListQuery};

/// The least time between two reads of the set.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// Past this many stored images the set is not kept (it would hold 8 bytes a name): lookups go to the database.
const MAX_NAMES: usize = 4_000_000;

/// The catalog's image names at one version, as the first 64 bits of each SHA-256: a made-up name that shares them
/// with a stored one (one chance in 2^64 / the number of images) costs a lookup, as before.
struct NameSet {
    version: i64,
    prefixes: HashSet<u64>,
}

fn prefix(sha256: &str) -> Option<u64> {
    u64::from_str_radix(sha256.get(..16)?, 16).ok()
}

struct Shared {
    source: Arc<dyn ChangeSource>,
    freshness: Arc<Freshness>,
    names: RwLock<Option<Arc<NameSet>>>,
    loading: AtomicBool,
    last_load: Mutex<Option<Instant>>,
}

impl Shared {
    /// Reads the set again in the background, unless a read is under way or one started within the interval.
    fn reload_soon(self: &Arc<Self>) {
        {
            let mut last = self.last_load.lock().expect("never poisoned");
            if last.is_some_and(|at| at.elapsed() < RELOAD_INTERVAL) || self.loading.swap(true, Ordering::AcqRel) {
                return;
            }
            *last = Some(Instant::now());
        }
        let shared = self.clone();
        tokio::spawn(async move {
            match shared.source.load_image_names().await {
                Ok(names) if names.sha256.len() <= MAX_NAMES => {
                    let prefixes = names.sha256.iter().filter_map(|name| prefix(name)).collect();
                    let set = NameSet {
                        version: names.version,
                        prefixes,
                    };
                    *shared.names.write().expect("never poisoned") = Some(Arc::new(set));
                }
                Ok(names) => {
                    tracing::warn!(
                        images = names.sha256.len(),
                        "too many images to keep their names: lookups go to the database"
                    );
                    *shared.names.write().expect("never poisoned") = None;
                }
                // The outage guard has logged it; lookups go to the database meanwhile.
                Err(error) => tracing::debug!(%error, "cannot read the image names"),
            }
            shared.loading.store(false, Ordering::Release);
        });
    }

    /// Whether `sha256` is certainly not stored: only when the set is at the confirmed version.
    fn certainly_absent(self: &Arc<Self>, sha256: &str) -> bool {
        let Some(current) = self.freshness.current_version() else {
            return false;
        };
        let names = self.names.read().expect("never poisoned").clone();
        match names {
            Some(set) if set.version == current => prefix(sha256).is_some_and(|p| !set.prefixes.contains(&p)),
            // Newer than the confirmed version: the follower is about to catch up.
            Some(set) if set.version > current => false,
            _ => {
                self.reload_soon();
                false
            }
        }
    }
}

/// The read side with unknown image names answered at once; every other read passes through.
pub struct KnownImages {
    inner: Arc<dyn CatalogReads>,
    shared: Arc<Shared>,
}

impl KnownImages {
    /// Starts reading the set at once (in the background): `source` is the change source the reads come from.
    pub fn start(inner: Arc<dyn CatalogReads>, source: Arc<dyn ChangeSource>, freshness: Arc<Freshness>) -> Self {
        let shared = Arc::new(Shared {
            source,
            freshness,
            names: RwLock::new(None),
            loading: AtomicBool::new(false),
            last_load: Mutex::new(None),
        });
        shared.reload_soon();
        Self { inner, shared }
    }

    /// The catalog version the known names were read at, once read (for tests and diagnostics).
    pub fn version(&self) -> Option<i64> {
        let names = self.shared.names.read().expect("never poisoned");
        names.as_ref().map(|set| set.version)
    }
}

#[async_trait]
impl CatalogReads for KnownImages {
    async fn list(&self, query: &ListQuery) -> StoreResult<Vec<Beer>> {
        self.inner.list(query).await
    }

    async fn count(&self, filter: &BeerFilter) -> StoreResult<u64> {
        self.inner.count(filter).await
    }

    async fn ingredient_names(&self, kind: IngredientKind, filter: &BeerFilter) -> StoreResult<Vec<IngredientName>> {
        self.inner.ingredient_names(kind, filter).await
    }

    async fn list_json(&self, query: &ListQuery, shape: JsonShape, image_base: &str) -> StoreResult<String> {
        self.inner.list_json(query, shape, image_base).await
    }

    async fn get_json(&self, id: i64, shape: JsonShape, image_base: &str) -> StoreResult<Option<String>> {
        self.inner.get_json(id, shape, image_base).await
    }

    async fn rendered_rows(&self, ids: &[i64]) -> StoreResult<Vec<RenderedRow>> {
        self.inner.rendered_rows(ids).await
    }

    async fn get(&self, id: i64) -> StoreResult<Option<Beer>> {
        self.inner.get(id).await
    }

    async fn get_many(&self, ids: &[i64]) -> StoreResult<Vec<Beer>> {
        self.inner.get_many(ids).await
    }

    async fn random(&self) -> StoreResult<Option<Beer>> {
        self.inner.random().await
    }

    async fn image_meta(&self, sha256: &str) -> StoreResult<Option<ImageMeta>> {
        if self.shared.certainly_absent(sha256) {
            return Ok(None);
        }
        self.inner.image_meta(sha256).await
    }

    async fn image(&self, sha256: &str) -> StoreResult<Option<StoredImage>> {
        if self.shared.certainly_absent(sha256) {
            return Ok(None);
        }
        self.inner.image(sha256).await
    }

    async fn image_rendition(&self, sha256: &str, width: u32) -> StoreResult<Option<StoredRendition>> {
        // A rendition exists only beside its image.
        if self.shared.certainly_absent(sha256) {
            return Ok(None);
        }
        self.inner.image_rendition(sha256, width).await
    }

    async fn has_images(&self) -> StoreResult<bool> {
        self.inner.has_images().await
    }
}
