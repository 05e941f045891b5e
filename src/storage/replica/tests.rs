//! The router's choices, on two recording stand-ins for the primary and the replica.

use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::*;
use crate::storage::StoreError;
use crate::storage::read_preference::reads_on_primary;

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
impl VersionReader for RecordedFeed {
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
}

#[async_trait]
impl CatalogReads for Recording {
    async fn list(&self, _query: &ListQuery) -> StoreResult<Vec<Beer>> {
        self.read("list").map(|()| Vec::new())
    }
    async fn count(&self, _filter: &BeerFilter) -> StoreResult<u64> {
        self.read("count").map(|()| 0)
    }
    async fn ingredient_names(
        &self,
        _kind: crate::domain::IngredientKind,
        _filter: &BeerFilter,
    ) -> StoreResult<Vec<crate::domain::IngredientName>> {
        self.read("ingredient_names").map(|()| Vec::new())
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
    async fn get_many(&self, _ids: &[i64]) -> StoreResult<Vec<Beer>> {
        self.read("get_many").map(|()| Vec::new())
    }
    async fn image_meta(&self, _sha256: &str) -> StoreResult<Option<ImageMeta>> {
        self.read("image_meta").map(|()| None)
    }
    async fn image(&self, _sha256: &str) -> StoreResult<Option<StoredImage>> {
        self.read("image").map(|()| None)
    }
    async fn image_rendition(&self, _sha256: &str, _width: u32) -> StoreResult<Option<StoredRendition>> {
        self.read("image_rendition").map(|()| None)
    }
    async fn has_images(&self) -> StoreResult<bool> {
        self.read("has_images").map(|()| false)
    }
}

#[async_trait]
impl ChangeSource for Recording {
    async fn catalog_version(&self) -> StoreResult<i64> {
        self.read("catalog_version").map(|()| 0)
    }
    async fn load_index_with_progress(&self, _progress: &Arc<BuildProgress>) -> StoreResult<CatalogIndex> {
        self.read("load_index")?;
        Err(StoreError::Database(sqlx::Error::RowNotFound))
    }
    async fn load_index_changes(&self, _since: i64, _limit: usize) -> StoreResult<Option<IndexChanges>> {
        self.read("load_index_changes").map(|()| None)
    }
    async fn load_image_names(&self) -> StoreResult<ImageNames> {
        self.read("load_image_names").map(|()| ImageNames::default())
    }
    async fn version_reader(&self) -> StoreResult<Box<dyn VersionReader>> {
        self.read("version_reader")?;
        Ok(Box::new(RecordedFeed(self.feed.clone())))
    }
}

fn replicated() -> (ReplicaRouter, Arc<Recording>, Arc<Recording>) {
    let (primary, replica) = (Recording::new(), Recording::new());
    let health = Arc::new(ReplicaHealth::new(Duration::from_secs(5)));
    let store = ReplicaRouter::new(primary.clone(), replica.clone(), health);
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
    let mut feed = store.version_reader().await.unwrap();
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
async fn catalog_reads_go_to_the_replica() {
    let (store, primary, replica) = replicated();
    store.list(&ListQuery::default()).await.unwrap();
    store.count(&BeerFilter::default()).await.unwrap();
    store.get(1).await.unwrap();
    store.random().await.unwrap();
    assert_eq!(replica.calls(), ["list", "count", "get", "random"]);
    assert!(primary.calls().is_empty());
    let status = store.health.status();
    assert_eq!((status.reads_on_replica, status.reads_on_primary), (4, 0));
    assert_eq!(status.fallback_reason, None);
}

#[tokio::test]
async fn images_are_read_from_the_replica_then_the_primary() {
    let (store, primary, replica) = replicated();
    store.has_images().await.unwrap();
    // Neither has it (the recording stores hold nothing): the replica's miss is asked of the primary.
    assert!(store.image("ab").await.unwrap().is_none());
    assert!(store.image_meta("ab").await.unwrap().is_none());
    assert_eq!(replica.calls(), ["image", "image_meta"]);
    assert_eq!(primary.calls(), ["has_images", "image", "image_meta"]);
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
    let status = store.health.status();
    assert_eq!(status.fallback_reason.as_deref(), Some("lagging more"));
    assert_eq!(status.fallbacks, 1, "one switch, however many reasons");
    store.health.back_in_use();
    store.get(1).await.unwrap();
    assert_eq!(replica.calls(), ["get"]);
    assert_eq!(store.health.status().fallback_reason, None);
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
    let status = store.health.status();
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
    assert_eq!(store.health.status().retried_on_primary, 1);
}

#[tokio::test]
async fn other_replica_errors_are_retried_on_the_primary_without_a_fallback() {
    let (store, primary, replica) = replicated();
    replica.fail_reads_with(recovery_conflict);
    store.random().await.unwrap();
    assert_eq!((replica.calls(), primary.calls()), (vec!["random"], vec!["random"]));
    let status = store.health.status();
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
