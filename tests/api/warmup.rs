//! No cold window after a deploy (issue 22): a starting server tells the load balancer (`/started`) and humans
//! (`/ready`) that it is warming while its read model's first build runs, saying how far it is, and that it is
//! ready once warm; past `READ_MODEL_WARMUP_TIMEOUT_SECS` it is ready anyway, serving from SQL, and says so. Reads
//! answer correctly throughout. The first build is held by a test hook ([`WarmupHold`]) instead of a catalog big
//! enough to take seconds to read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use beer_catalog::storage::{self, WarmupHold};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, TestDatabase, config_for};

const BEERS: u64 = 400;

/// Queries whose answers must not depend on where they were evaluated (SQL while warming, the index after):
/// scan-heavy filters, a fuzzy name nothing matches, a deep page, a sort, and the native API's total.
const READS: [&str; 6] = [
    "/v2/beers?abv_gt=8&per_page=80",
    "/v2/beers?beer_name=zzqx",
    "/v2/beers?page=4&per_page=50",
    "/v2/beers?hops=cascade&per_page=80",
    "/beers?sort=abv:desc,name&per_page=30",
    "/beers?abv_lt=5&per_page=1",
];

/// A fresh database holding `BEERS` generated beers, written before the server starts (as a deploy finds it).
async fn catalog_of_generated_beers(backend: Backend) -> Arc<TestDatabase> {
    let database = Arc::new(TestDatabase::create(backend).await);
    let config = config_for(&database.url, &[]);
    let store = storage::connect(&config.database, &config.store).await.unwrap();
    store.migrate().await.unwrap();
    let mut text = Vec::new();
    beer_catalog::commands::generate::write_catalog(&mut text, BEERS, 1, 22).unwrap();
    let plan = beer_catalog::commands::import::plan(std::str::from_utf8(&text).unwrap(), false).unwrap();
    store.import(&plan.records, &|_| {}).await.unwrap();
    store.close().await;
    database
}

/// The server over `database` with its first build held until `hold` is released.
async fn spawn_held(database: Arc<TestDatabase>, hold: &WarmupHold, args: &[&str]) -> TestApp {
    let hold = hold.clone();
    TestApp::spawn_on(database, args, move |config| config.read_model_warmup.hold = Some(hold)).await
}

/// Each of [`READS`]: status, body and the native API's `X-Total-Count`.
async fn answers(app: &TestApp) -> Vec<(u16, Option<String>, Value)> {
    let mut answers = Vec::new();
    for path in READS {
        let response = app.get(path).await;
        let status = response.status().as_u16();
        let total = crate::helpers::header(&response, "x-total-count");
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{path}: {body}");
        answers.push((status, total, body));
    }
    answers
}

/// Polls `/ready` until it answers `status`, for at most `within`; the last body.
async fn ready_until(app: &TestApp, status: u16, within: Duration) -> Value {
    let started = Instant::now();
    loop {
        let (answered, body) = app.get_json("/ready").await;
        if answered == status {
            return body;
        }
        assert!(
            started.elapsed() < within,
            "/ready still {answered} after {within:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

backend_tests! {
    async fn a_warming_server_is_not_ready_until_its_read_model_is_built(backend) {
        let database = catalog_of_generated_beers(backend).await;
        let hold = WarmupHold::default();
        let app = spawn_held(database, &hold, &["--metrics-addr", "127.0.0.1:0"]).await;

        // Warming: 503 with the build's progress, once the beers are counted beside it.
        let started = Instant::now();
        let body = loop {
            let (status, body) = app.get_json("/ready").await;
            assert_eq!(status, 503, "held: {body}");
            if body["reason"].as_str().unwrap().contains(&format!("of {BEERS} beers")) {
                break body;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "the beers were never counted: {body}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        assert_eq!(body["status"], "warming", "{body}");
        let reason = body["reason"].as_str().unwrap();
        assert!(
            reason.starts_with(&format!("warming: read model building, 0 of {BEERS} beers (")),
            "{reason}"
        );
        assert!(reason.ends_with("of at most 30 s; READ_MODEL_WARMUP_TIMEOUT_SECS)"), "{reason}");
        assert_eq!(body["read_model"], body["reason"]);
        // The load balancer's check says the same; liveness is not affected.
        let (status, started_body) = app.get_json("/started").await;
        assert_eq!((status, &started_body["status"]), (503, &Value::from("warming")), "{started_body}");
        assert!(started_body["reason"].as_str().unwrap().starts_with("warming: read model building, "));
        assert_eq!(app.get("/health").await.status(), 200);
        let samples = app.scrape().await;
        assert_eq!(samples.value("beer_catalog_read_model_warmup_state", &[("state", "building")]), 1.0);
        assert_eq!(samples.value("beer_catalog_read_model_warmup_state", &[("state", "warm")]), 0.0);

        // Reads answer while warming (from SQL), and answer the same once warm (from the index).
        let while_warming = answers(&app).await;
        let found = |answer: &(u16, Option<String>, Value)| answer.2.as_array().unwrap().len();
        assert!([0, 2, 3, 4, 5].iter().all(|read| found(&while_warming[*read]) > 0), "every read but the fuzzy one finds beers");
        assert_eq!(found(&while_warming[1]), 0);
        let model = app.catalog.read_model().unwrap();
        assert_eq!(model.refreshes().rebuilt, 0, "nothing was built while held");

        hold.release();
        let body = ready_until(&app, 200, Duration::from_secs(30)).await;
        assert_eq!(body["status"], "ready", "{body}");
        assert!(body.get("reason").is_none(), "{body}");
        assert!(body["read_model"].as_str().unwrap().starts_with("warm: built in "), "{body}");
        let (status, started_body) = app.get_json("/started").await;
        assert_eq!((status, &started_body["status"]), (200, &Value::from("started")), "{started_body}");
        assert_eq!(model.refreshes().rebuilt, 1);
        assert!(model.is_current().await.unwrap());
        assert_eq!(answers(&app).await, while_warming, "the index answers as SQL did");
        let samples = app.scrape().await;
        assert_eq!(samples.value("beer_catalog_read_model_warmup_state", &[("state", "warm")]), 1.0);
        assert_eq!(samples.value("beer_catalog_read_model_warmup_state", &[("state", "building")]), 0.0);
    }

    async fn past_its_bound_a_warming_server_is_ready_serving_from_sql(backend) {
        let database = catalog_of_generated_beers(backend).await;
        let hold = WarmupHold::default();
        let app = spawn_held(database, &hold, &["--read-model-warmup-timeout-secs", "1"]).await;

        let body = ready_until(&app, 200, Duration::from_secs(10)).await;
        assert_eq!(body["status"], "ready", "{body}");
        let read_model = body["read_model"].as_str().unwrap();
        assert!(
            read_model.starts_with(
                "serving from SQL: the read model was not built within READ_MODEL_WARMUP_TIMEOUT_SECS (1 s); \
                 still building in the background, 0 of "
            ),
            "{read_model}"
        );
        let (status, started_body) = app.get_json("/started").await;
        assert_eq!(status, 200, "{started_body}");
        assert!(started_body["read_model"].as_str().unwrap().starts_with("serving from SQL: "));

        // Served from SQL, and right: the same answers once the index is built.
        let from_sql = answers(&app).await;
        let (_, total, _) = &from_sql[5];
        assert!(total.as_deref().is_some_and(|total| total.parse::<u64>().unwrap() > 0), "{total:?}");
        hold.release();
        let started = Instant::now();
        loop {
            let (status, body) = app.get_json("/ready").await;
            assert_eq!(status, 200, "{body}");
            if body["read_model"].as_str().unwrap().starts_with("warm: built in ") {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "never warm: {body}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(answers(&app).await, from_sql);
    }

    async fn with_the_read_model_off_readiness_waits_for_nothing(backend) {
        let app = TestApp::spawn_with(backend, &["--read-model", "database"], |_| {}).await;
        let (status, body) = app.get_json("/ready").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["read_model"], "off");
        let (status, body) = app.get_json("/started").await;
        assert_eq!((status, &body["status"]), (200, &Value::from("started")), "{body}");
    }
}
