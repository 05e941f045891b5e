//! The response cache and HTTP caching: what is cached and what never is, validators, and the freshness bound
//! across instances and processes (a write anywhere shows everywhere within 1 s).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, FRESHNESS_BOUND, TestApp, TestDatabase, header, sample_beer, within_bound};

/// GETs `path` until the answer's `Cache-Status` says it came from the cache (the watcher needs its first read of
/// the catalog version before anything is stored).
async fn until_cached(app: &TestApp, path: &str) -> reqwest::Response {
    let started = Instant::now();
    loop {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        if header(&response, "cache-status").as_deref() == Some("beer-catalog; hit") {
            return response;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path} never came from the cache"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn name_of(app: &TestApp, path: &str) -> String {
    let (status, body) = app.get_json(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body[0]["name"].as_str().unwrap().to_owned()
}

/// After a write, `path` on `app` shows `expected` within the bound: polled, and then checked once the bound has
/// passed (when no stale answer may be served any more).
async fn shows_within_bound(app: &TestApp, path: &str, written_at: Instant, expected: &str) {
    while name_of(app, path).await != expected {
        assert!(
            written_at.elapsed() < FRESHNESS_BOUND,
            "{path} still stale {:?} after the write",
            written_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(FRESHNESS_BOUND.saturating_sub(written_at.elapsed())).await;
    assert_eq!(name_of(app, path).await, expected);
}

backend_tests! {
    async fn a_write_through_one_instance_shows_on_another_within_the_bound(backend) {
        let database = Arc::new(TestDatabase::create(backend).await);
        let writer = TestApp::spawn_on(database.clone(), &[], |_| {}).await;
        let reader = TestApp::spawn_on(database, &[], |_| {}).await;
        assert_eq!(writer.post_beer(&sample_beer("Original")).await.0, 201);
        within_bound("the new beer on the other instance", || async { reader.get("/v2/beers/1").await.status() == 200 }).await;
        until_cached(&reader, "/v2/beers/1").await;
        until_cached(&reader, "/v2/beers").await;

        let response = writer
            .send_json(reqwest::Method::PUT, "/beers/1", None, &sample_beer("Renamed"))
            .await;
        assert_eq!(response.status(), 200);
        let written_at = Instant::now();
        shows_within_bound(&reader, "/v2/beers/1", written_at, "Renamed").await;
        shows_within_bound(&reader, "/v2/beers", written_at, "Renamed").await;
        // And the reader caches again at the new version.
        until_cached(&reader, "/v2/beers/1").await;
    }

    async fn an_import_process_invalidates_a_running_servers_cache(backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.post_beer(&sample_beer("Before Import")).await.0, 201);
        until_cached(&app, "/v2/beers/1").await;

        let file = std::env::temp_dir().join(format!("import-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&file, r#"[{"id": 1, "name": "Imported", "abv": 6.0}]"#).unwrap();
        let output = crate::helpers::beer_catalog(&app.database_url, &["import", file.to_str().unwrap()]);
        let _ = std::fs::remove_file(&file);
        assert!(output.status.success(), "{output:?}");
        shows_within_bound(&app, "/v2/beers/1", Instant::now(), "Imported").await;
    }

    async fn the_cache_key_ignores_parameter_order_and_defaults(backend) {
        let app = TestApp::spawn(backend).await;
        for name in ["One", "Two", "Three"] {
            assert_eq!(app.post_beer(&sample_beer(name)).await.0, 201);
        }
        let first = until_cached(&app, "/v2/beers?abv_gt=5&per_page=2").await;
        let same = app.get("/v2/beers?per_page=2&abv_gt=5&page=1").await;
        assert_eq!(header(&same, "cache-status").as_deref(), Some("beer-catalog; hit"));
        assert_eq!(header(&first, "etag"), header(&same, "etag"));
        let other = app.get("/v2/beers?per_page=2&abv_gt=5&page=2").await;
        assert_ne!(header(&other, "cache-status").as_deref(), Some("beer-catalog; hit"));
        let beers: Vec<Value> = other.json().await.unwrap();
        assert_eq!(beers.len(), 1, "page 2 is its own answer");

        // The native list keeps its pagination headers when served from the cache.
        let listed = until_cached(&app, "/beers?per_page=2").await;
        assert_eq!(header(&listed, "x-total-count").as_deref(), Some("3"));
        assert!(header(&listed, "link").is_some_and(|l| l.contains("rel=\"next\"")));
    }

    async fn if_none_match_gets_a_304_without_a_body(backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.post_beer(&sample_beer("Validated")).await.0, 201);
        let cached = until_cached(&app, "/beers/1").await;
        let etag = header(&cached, "etag").expect("a 200 GET has an ETag");
        assert!(etag.starts_with('"') && etag.ends_with('"'), "a strong validator: {etag}");
        assert_eq!(header(&cached, "cache-control").as_deref(), Some("public, max-age=5"));

        let revalidated = app.client.get(app.url("/beers/1")).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(revalidated.status(), 304);
        assert_eq!(header(&revalidated, "etag"), Some(etag.clone()));
        assert_eq!(header(&revalidated, "cache-status").as_deref(), Some("beer-catalog; hit"));
        assert!(revalidated.bytes().await.unwrap().is_empty());

        let other = app.client.get(app.url("/beers/1")).header("if-none-match", "\"something-else\"").send().await.unwrap();
        assert_eq!(other.status(), 200);

        // A change makes a new validator: the old one no longer matches.
        let response = app.send_json(reqwest::Method::PUT, "/beers/1", None, &sample_beer("Changed")).await;
        assert_eq!(response.status(), 200);
        tokio::time::sleep(FRESHNESS_BOUND).await;
        let changed = app.client.get(app.url("/beers/1")).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(changed.status(), 200);
        assert_ne!(header(&changed, "etag"), Some(etag));
    }

    async fn errors_and_writes_are_never_cached(backend) {
        let app = TestApp::spawn(backend).await;
        // Let the watcher read the version, so caching is on.
        tokio::time::sleep(Duration::from_millis(600)).await;
        for _ in 0..2 {
            let missing = app.get("/v2/beers/1").await;
            assert_eq!(missing.status(), 404);
            assert_eq!(header(&missing, "cache-control").as_deref(), Some("no-store"));
            assert_eq!(header(&missing, "cache-status"), None, "an error is not a cache answer");
            assert_eq!(header(&missing, "etag"), None);
        }
        let invalid = app.get("/beers?per_page=500").await;
        assert_eq!(invalid.status(), 400);
        assert_eq!(header(&invalid, "cache-control").as_deref(), Some("no-store"));

        let created = app.send_json(reqwest::Method::POST, "/beers", None, &sample_beer("Fresh")).await;
        assert_eq!(created.status(), 201);
        assert_eq!(header(&created, "cache-control").as_deref(), Some("no-store"));
        assert_eq!(header(&created, "cache-status"), None);
        // At once, not after the bound: the 404 was never stored.
        assert_eq!(name_of(&app, "/v2/beers/1").await, "Fresh");

        let replaced = app.send_json(reqwest::Method::PUT, "/beers/1", None, &sample_beer("Replaced")).await;
        assert_eq!(replaced.status(), 200);
        assert_eq!(header(&replaced, "cache-control").as_deref(), Some("no-store"));
        assert_eq!(header(&replaced, "etag"), None, "a write's answer is no representation to revalidate");
        let deleted = app.client.delete(app.url("/beers/1")).send().await.unwrap();
        assert_eq!(deleted.status(), 204);
        assert_eq!(header(&deleted, "cache-control").as_deref(), Some("no-store"));

        // A random pick is never reused.
        assert_eq!(app.post_beer(&sample_beer("Lucky")).await.0, 201);
        let random = app.get("/v2/beers/random").await;
        assert_eq!(random.status(), 200);
        assert_eq!(header(&random, "cache-control").as_deref(), Some("no-store"));
        assert_eq!(header(&random, "cache-status"), None);
    }

    async fn a_disabled_cache_still_validates(backend) {
        let app = TestApp::spawn_with(backend, &["--cache-max-bytes", "0"], |_| {}).await;
        assert_eq!(app.post_beer(&sample_beer("Uncached")).await.0, 201);
        let first = app.get("/v2/beers").await;
        assert_eq!(header(&first, "cache-status"), None);
        let etag = header(&first, "etag").unwrap();
        let again = app.client.get(app.url("/v2/beers")).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status(), 304);
        assert_eq!(header(&again, "cache-status"), None, "answered by the handler, not a cache");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_is_bounded_in_bytes() {
    // 20 beers of about 3.5 KB each do not fit in 32 KiB.
    let app = TestApp::spawn_with(Backend::Sqlite, &["--cache-max-bytes", "32768"], |_| {}).await;
    for n in 1..=20 {
        let mut beer = sample_beer(&format!("Beer {n}"));
        beer["description"] = Value::String("x".repeat(3000));
        assert_eq!(app.post_beer(&beer).await.0, 201);
    }
    until_cached(&app, "/v2/beers/1").await;
    let mut hits = 0;
    for round in 0..2 {
        for id in 1..=20 {
            let response = app.get(&format!("/v2/beers/{id}")).await;
            assert_eq!(response.status(), 200);
            if round == 1 {
                hits += usize::from(header(&response, "cache-status").as_deref() == Some("beer-catalog; hit"));
            }
        }
    }
    assert!(hits > 0, "some answers are served from the cache");
    assert!(hits < 20, "but not all 70 KB of them fit in 32 KiB ({hits} hits)");
}
