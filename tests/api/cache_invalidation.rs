//! Caches that survive writes (issue 22): a write drops only the cached answers it can change. Proven as the read
//! model's patches are (read_model_patch.rs): after random writes by every kind of writer (this instance's API,
//! another instance's, the service's SQL from another process, raw SQL), every answer the caching instance gives,
//! from its cache or not, equals what an instance without a cache or read model (SQL for everything) gives from
//! the database; and answers the writes could not change were served from the cache.

use std::sync::Arc;
use std::time::{Duration, Instant};

use beer_catalog::storage::ChangeSource;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::backend_tests;
use crate::helpers::{TestApp, TestDatabase, header};
use crate::read_model_patch::{Raw, connected, random_fields, records};

const BASE_URL: &str = "http://beers.test";

/// Lists of several filters, orders and pages on both surfaces (an empty page among them), and single beers on
/// both surfaces and as a BeerXML download (absent ones among them).
fn paths() -> Vec<String> {
    let mut paths: Vec<String> = [
        "/v2/beers",
        "/v2/beers?page=2",
        "/v2/beers?per_page=80",
        "/v2/beers?page=40",
        "/v2/beers?abv_gt=60",
        "/v2/beers?abv_gt=60&page=2&per_page=10",
        "/v2/beers?abv_lt=20&ibu_gt=50",
        "/v2/beers?beer_name=pny",
        "/v2/beers?hops=hop_1",
        "/v2/beers?food=dish_2",
        "/v2/beers?yeast=yeast_1&ibu_lt=60",
        "/v2/beers?ids=1%7C5%7C30%7C121",
        "/beers",
        "/beers?page=3&per_page=10",
        "/beers?sort=abv:desc",
        "/beers?sort=name&page=2&per_page=10",
        "/beers?sort=id:desc&per_page=10",
        "/beers?style=out&sort=ibu",
        "/beers?abv_gt=100&per_page=5",
    ]
    .map(str::to_owned)
    .to_vec();
    for id in (1..=130).step_by(6) {
        paths.push(format!("/v2/beers/{id}"));
        paths.push(format!("/beers/{id}"));
    }
    paths.extend(["/beers/3.xml", "/beers/61.xml"].map(str::to_owned));
    paths
}

/// What a client can tell of an answer.
#[derive(Debug, PartialEq)]
struct Observed {
    status: u16,
    total: Option<String>,
    link: Option<String>,
    body: String,
}

/// The answer to `path`, and whether it came from the response cache.
async fn observe(app: &TestApp, path: &str) -> (Observed, bool) {
    let response = app.get(path).await;
    let hit = header(&response, "cache-status").is_some_and(|status| status.starts_with("beer-catalog; hit"));
    let observed = Observed {
        status: response.status().as_u16(),
        total: header(&response, "x-total-count"),
        link: header(&response, "link"),
        body: response.text().await.unwrap(),
    };
    (observed, hit)
}

/// Waits until `app`'s change signal has confirmed the database's version and its read model's change feed knows
/// every step up to it (any writer's change is then due everywhere: within the 1 s bound in production).
async fn settled(app: &TestApp, database: &dyn ChangeSource) {
    let started = Instant::now();
    let version = database.catalog_version().await.unwrap();
    let (freshness, feed) = (app.catalog.freshness(), app.catalog.change_feed().unwrap());
    loop {
        let signal = freshness.current_version();
        let fed = feed.position().map(|position| position.version);
        if signal == Some(version) && fed >= Some(version) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not settled at version {version}: signal {signal:?}, feed {fed:?}"
        );
        freshness.poll_now();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn replace(app: &TestApp, id: i64, fields: &serde_json::Value) {
    let response = app
        .send_json(reqwest::Method::PUT, &format!("/beers/{id}"), None, fields)
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

backend_tests! {
    async fn every_cached_answer_equals_the_databases_after_random_writes_by_any_writer(backend) {
        let database = Arc::new(TestDatabase::create(backend).await);
        let cached = TestApp::spawn_on(database.clone(), &["--public-base-url", BASE_URL], |_| {}).await;
        let uncached_args = ["--public-base-url", BASE_URL, "--read-model", "database", "--cache-max-bytes", "0"];
        let uncached = TestApp::spawn_on(database.clone(), &uncached_args, |_| {}).await;
        let other_process = connected(&database).await;
        let raw = Raw::open(&database.url).await;
        let mut rng = StdRng::seed_from_u64(22);
        cached.catalog.writes().import(&records(&mut rng, 1..=120), &|_| {}).await.unwrap();
        let paths = paths();
        let (mut answers, mut hits) = (0, 0);

        for round in 0..25 {
            // Every answer stored at the current version.
            settled(&cached, other_process.as_ref()).await;
            for path in &paths {
                observe(&cached, path).await;
            }
            let mut writes = Vec::new();
            for _ in 0..rng.gen_range(1..=3) {
                let ids = cached.catalog.reads().list(&beer_catalog::domain::ListQuery {
                    per_page: 1_000,
                    ..Default::default()
                }).await.unwrap();
                let existing = ids.choose(&mut rng).map_or(1, |beer| beer.id);
                let mut fields = serde_json::to_value(random_fields(&mut rng)).unwrap();
                // What the API accepts (the store, as an import, takes any).
                fields["abv"] = rng.gen_range(0..100).into();
                let kind = rng.gen_range(0..8);
                writes.push(format!("{kind} on {existing}"));
                match kind {
                    // This instance's API: a replace, a create, a delete.
                    0 | 1 => replace(&cached, existing, &fields).await,
                    2 => assert_eq!(cached.post_beer(&fields).await.0, 201),
                    3 => {
                        let response = cached.client.delete(cached.url(&format!("/beers/{existing}"))).send().await.unwrap();
                        assert_eq!(response.status(), 204);
                    }
                    // Another instance's API.
                    4 => replace(&uncached, existing, &fields).await,
                    // Another process: the service's SQL (an import with explicit ids, new ones among them).
                    5 => {
                        let ids = [existing, rng.gen_range(1..140)];
                        other_process.import(&records(&mut rng, ids.into_iter().collect::<std::collections::BTreeSet<_>>()), &|_| {}).await.unwrap();
                    }
                    // psql: one statement over several rows, a delete.
                    6 => raw.execute(&format!("UPDATE beers SET abv = abv + 15, ibu = NULL WHERE id % 9 = {}", rng.gen_range(0..9))).await,
                    _ => raw.execute(&format!("DELETE FROM beers WHERE id = {existing}")).await,
                }
            }
            settled(&cached, other_process.as_ref()).await;
            for path in &paths {
                let ((answer, hit), (expected, _)) = (observe(&cached, path).await, observe(&uncached, path).await);
                assert_eq!(answer, expected, "round {round}, after writes {writes:?}: {path} (from the cache: {hit})");
                answers += 1;
                hits += usize::from(hit);
            }
        }
        // Single beers nobody wrote and lists no write could change survived the writes.
        assert!(hits * 3 > answers, "{hits} of {answers} answers after writes came from the cache");
        other_process.close().await;
    }
}
