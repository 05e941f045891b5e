//! Reads from a read replica, against a real PostgreSQL streaming standby: the pair `scripts/pg-replica.sh start`
//! creates (`.ci/run` does it and exports what `scripts/pg-replica.sh env` prints). Each test gets its own
//! database on the pair's primary, replicated to the standby like everything else.
//!
//! How a read is shown to come from the standby, with no test-only hooks in the service: replay is paused on the
//! standby, a beer is written through the API, and reading it back answers 404 (the standby has not replayed it)
//! until replay resumes. The same read answering 200 at once is how a fallback to the primary shows.
//!
//! The tests stop the standby and pause its replay, so they take turns (`SERIAL`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use beer_catalog::domain::ImageLimits;
use beer_catalog::http::rate_limit::RateLimiter;
use beer_catalog::http::{AppState, ImageSettings, WritePolicy, with_middleware};
use beer_catalog::storage;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDatabase, config_for, execute_while_dropping, pg_connect, sample_beer};

const NEEDS_PAIR: &str = "needs a local streaming replica: scripts/pg-replica.sh start (run by .ci/run)";
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const WAIT: Duration = Duration::from_secs(30);
/// How long after the standby replays a change the service may still answer from before it: the version
/// follower polls the standby every 250 ms (a standby relays no change notifications) and the read model
/// follows the confirmed version. The service promises 1 s; the margin is for a loaded test machine.
const FRESHNESS_BOUND: Duration = Duration::from_millis(1500);

/// The primary and standby `scripts/pg-replica.sh` made, as superuser URLs of their `postgres` database.
#[derive(Clone)]
struct Pair {
    primary: String,
    standby: String,
}

/// The pair from the environment; a replica test that runs without it fails, saying what to do (like the
/// PostgreSQL tests: it never passes having tested nothing).
fn pair() -> Pair {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (var("REPLICA_PRIMARY_URL"), var("REPLICA_STANDBY_URL")) {
        (Some(primary), Some(standby)) => Pair { primary, standby },
        _ => panic!(
            "REPLICA_PRIMARY_URL / REPLICA_STANDBY_URL are not set: {NEEDS_PAIR}, then \
             eval \"$(scripts/pg-replica.sh env)\""
        ),
    }
}

fn with_database(url: &str, database: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_path(database);
    url.to_string()
}

fn script(command: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-replica.sh");
    let status = std::process::Command::new(script).arg(command).status().unwrap();
    assert!(status.success(), "scripts/pg-replica.sh {command} failed: {status}");
}

/// Waits until the standby has replayed everything the primary has written so far.
async fn wait_replayed(pair: &Pair) {
    let (lsn,): (String,) = sqlx::query_as("SELECT pg_current_wal_insert_lsn()::text")
        .fetch_one(&mut pg_connect(&pair.primary).await)
        .await
        .unwrap();
    let mut standby = pg_connect(&pair.standby).await;
    let started = Instant::now();
    loop {
        let (replayed,): (bool,) = sqlx::query_as("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
            .bind(&lsn)
            .fetch_one(&mut standby)
            .await
            .unwrap();
        if replayed {
            return;
        }
        assert!(
            started.elapsed() < WAIT,
            "the standby did not replay up to {lsn} within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The standby stopped (`pg_ctl stop`) for as long as this lives, even when the test fails.
struct StandbyStopped(bool);

impl StandbyStopped {
    fn new() -> Self {
        script("standby-stop");
        Self(true)
    }

    fn start_again(&mut self) {
        script("standby-start");
        self.0 = false;
    }
}

impl Drop for StandbyStopped {
    fn drop(&mut self) {
        if self.0 {
            script("standby-start");
        }
    }
}

/// WAL replay paused on the standby for as long as this lives, even when the test fails.
struct ReplayPaused {
    standby: String,
    paused: bool,
}

impl ReplayPaused {
    async fn new(pair: &Pair) -> Self {
        sqlx::query("SELECT pg_wal_replay_pause()")
            .execute(&mut pg_connect(&pair.standby).await)
            .await
            .unwrap();
        Self {
            standby: pair.standby.clone(),
            paused: true,
        }
    }

    async fn resume(&mut self) {
        sqlx::query("SELECT pg_wal_replay_resume()")
            .execute(&mut pg_connect(&self.standby).await)
            .await
            .unwrap();
        self.paused = false;
    }
}

impl Drop for ReplayPaused {
    fn drop(&mut self) {
        if !self.paused {
            return;
        }
        execute_while_dropping(self.standby.clone(), "SELECT pg_wal_replay_resume()".to_owned());
    }
}

/// The service over a fresh database on the pair: primary for writes, standby for reads.
struct ReplicaApp {
    app: TestApp,
    /// The test database on the standby.
    standby_url: String,
}

/// The replica's fallbacks, by reason.
const FALLBACKS: &str = "beer_catalog_replica_fallbacks_total";

/// These tests count where the store's reads go, so the response cache (which answers a repeated read without
/// any) and the read model (which reads the catalog in the background whenever it changes) are off, except where
/// a test turns them on with `extra_args`.
const ROUTING_ONLY: [&str; 4] = ["--cache-max-bytes", "0", "--read-model", "database"];

async fn spawn(pair: &Pair, max_lag_secs: u64) -> ReplicaApp {
    spawn_with(pair, max_lag_secs, &ROUTING_ONLY).await
}

async fn spawn_with(pair: &Pair, max_lag_secs: u64, extra_args: &[&str]) -> ReplicaApp {
    let database = Arc::new(TestDatabase::create_postgres_on(pair.primary.clone()).await);
    let name = url::Url::parse(&database.url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    // The schema first, replayed on the standby, so the replica starts out current and usable.
    let config = config_for(&database.url, &[]);
    let store = storage::connect(&config.database, &config.store).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    wait_replayed(pair).await;
    let standby_url = with_database(&pair.standby, &name);
    let max_lag = max_lag_secs.to_string();
    // Metrics on: the fallback tests check the replica's metrics beside /ready's counts.
    let mut args = vec![
        "--db-read-url",
        &standby_url,
        "--db-read-max-lag-secs",
        &max_lag,
        "--metrics-addr",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra_args);
    let app = TestApp::spawn_on(database, &args, |_| {}).await;
    ReplicaApp { app, standby_url }
}

impl ReplicaApp {
    async fn ready(&self) -> Value {
        let (status, body) = self.app.get_json("/ready").await;
        assert_eq!(status, 200, "/ready must stay 200 while the primary serves: {body}");
        body
    }

    async fn stat(&self, name: &str) -> u64 {
        let body = self.ready().await;
        body["read_replica_stats"][name]
            .as_u64()
            .unwrap_or_else(|| panic!("no read_replica_stats.{name} in {body}"))
    }

    /// Polls `/ready` until `read_replica` satisfies `expected`, returning that body.
    async fn wait_for_replica(&self, what: &str, expected: impl Fn(&str) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let body = self.ready().await;
            if body["read_replica"].as_str().is_some_and(&expected) {
                return body;
            }
            assert!(
                started.elapsed() < WAIT,
                "read_replica not {what} within {WAIT:?}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn create_beer(&self, name: &str) -> i64 {
        let (status, body) = self.app.post_beer(&sample_beer(name)).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["name"], name, "the write's response shows the write");
        body["id"].as_i64().unwrap()
    }

    async fn status_of(&self, path: &str) -> u16 {
        self.app.get(path).await.status().as_u16()
    }

    /// GETs `path` once the service has caught up with what the standby replayed: it may answer from its
    /// previous version for up to [`FRESHNESS_BOUND`], so a 404 is retried until then and no longer.
    async fn get_json_after_replay(&self, path: &str) -> (u16, Value) {
        let started = Instant::now();
        loop {
            let (status, body) = self.app.get_json(path).await;
            if status != 404 || started.elapsed() > FRESHNESS_BOUND {
                return (status, body);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn in_use(state: &str) -> bool {
    state == "in use"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a local streaming replica: scripts/pg-replica.sh start (run by .ci/run)"]
async fn catalog_reads_are_served_by_the_standby_and_writes_by_the_primary() {
    let pair = pair();
    let _turn = SERIAL.lock().await;
    // A bound no test run reaches: whatever the standby's lag, reads stay on it here.
    let replica = spawn(&pair, 3600).await;
    let ready = replica.ready().await;
    assert_eq!(ready["read_replica"], "in use", "{ready}");
    assert_eq!(
        ready["read_replica_stats"]["in_recovery"], true,
        "the read database is a standby: {ready}"
    );

    let mut paused = ReplayPaused::new(&pair).await;
    let id = replica.create_beer("Written While Replay Is Paused").await;
    // The primary has it (writes land there)...
    let primary_config = config_for(&replica.app.database_url, &[]);
    let primary = storage::connect(&primary_config.database, &primary_config.store)
        .await
        .unwrap();
    let on_primary = primary.get(id).await.unwrap();
    assert_eq!(on_primary.unwrap().fields.name, "Written While Replay Is Paused");
    // ...the standby does not yet, and the API's reads are served by the standby.
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM beers WHERE id = $1")
        .bind(id)
        .fetch_one(&mut pg_connect(&replica.standby_url).await)
        .await
        .unwrap();
    assert_eq!(rows, 0, "replay is paused, so the standby lacks the new beer");
    let reads_before = replica.stat("reads_on_replica").await;
    assert_eq!(replica.status_of(&format!("/beers/{id}")).await, 404);
    assert_eq!(replica.status_of(&format!("/v2/beers/{id}")).await, 404);
    let (status, list) = replica.app.get_json("/beers?per_page=80").await;
    assert_eq!(status, 200);
    assert!(list.as_array().unwrap().iter().all(|beer| beer["id"] != id), "{list}");
    assert!(
        replica.stat("reads_on_replica").await >= reads_before + 4,
        "get, get, list, count"
    );

    // A write's response reflects the write at once, although the standby has not replayed the beer.
    let mut changed = sample_beer("Renamed While Replay Is Paused");
    changed["abv"] = json!(7.5);
    let response = replica
        .app
        .send_json(reqwest::Method::PUT, &format!("/beers/{id}"), None, &changed)
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["name"].as_str(), body["abv"].as_f64()),
        (Some("Renamed While Replay Is Paused"), Some(7.5))
    );

    // Anything a writing request reads (e.g. a handler reading back what it wrote) is served by the primary:
    // the same read-back route, behind the service's middleware, finds the beer when POSTed to and not on GET.
    async fn read_back(State(state): State<AppState>, Path(id): Path<i64>) -> &'static str {
        match state.catalog.reads().get(id).await.unwrap() {
            Some(_) => "found",
            None => "missing",
        }
    }
    let routes = Router::new().route("/read-back/{id}", get(read_back).post(read_back));
    let state = AppState::new(
        replica.app.catalog.clone(), // the server's own stack: reads on the replica, writes on the primary
        WritePolicy::Open,
        ImageSettings {
            public_base_url: None,
            limits: ImageLimits {
                max_bytes: 1024,
                max_dimension: 64,
            },
        },
    );
    let router = with_middleware(routes, Duration::from_secs(10), RateLimiter::disabled()).with_state(state);
    let read_back_with = |method: &str| {
        let request = axum::http::Request::builder()
            .method(method)
            .uri(format!("/read-back/{id}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let router = router.clone();
        async move {
            let response = tower::ServiceExt::oneshot(router, request).await.unwrap();
            let body = http_body_util::BodyExt::collect(response.into_body())
                .await
                .unwrap()
                .to_bytes();
            String::from_utf8(body.to_vec()).unwrap()
        }
    };
    assert_eq!(read_back_with("GET").await, "missing", "a reading request: the standby");
    assert_eq!(read_back_with("POST").await, "found", "a writing request: the primary");

    // Replay resumes: the standby catches up and serves the beer as last written.
    paused.resume().await;
    wait_replayed(&pair).await;
    let (status, beer) = replica.get_json_after_replay(&format!("/beers/{id}")).await;
    assert_eq!(
        (status, beer["name"].as_str()),
        (200, Some("Renamed While Replay Is Paused"))
    );
    let ready = replica.ready().await;
    assert_eq!(ready["read_replica"], "in use", "{ready}");
    assert_eq!(ready["read_replica_stats"]["fallbacks"], 0, "{ready}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a local streaming replica: scripts/pg-replica.sh start (run by .ci/run)"]
async fn the_response_cache_follows_the_version_the_standby_has_replayed() {
    let pair = pair();
    let _turn = SERIAL.lock().await;
    let replica = spawn_with(&pair, 3600, &[]).await;
    let id = replica.create_beer("Before The Pause").await;
    wait_replayed(&pair).await;
    let path = format!("/beers/{id}");
    let (status, beer) = replica.get_json_after_replay(&path).await;
    assert_eq!((status, beer["name"].as_str()), (200, Some("Before The Pause")));
    let name_now = || async {
        let (status, beer) = replica.app.get_json(&path).await;
        assert_eq!(status, 200, "{beer}");
        beer["name"].as_str().unwrap().to_owned()
    };

    // Written on the primary while the standby does not replay it: the reads (and so the cache) keep the
    // standby's state. Were the cache keyed by the primary's version, it would now store the standby's old
    // answer under the new version, and keep serving it after the standby caught up.
    let mut paused = ReplayPaused::new(&pair).await;
    let response = replica
        .app
        .send_json(reqwest::Method::PUT, &path, None, &sample_beer("After The Pause"))
        .await;
    assert_eq!(response.status(), 200);
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        assert_eq!(
            name_now().await,
            "Before The Pause",
            "the standby has not replayed the write"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    paused.resume().await;
    wait_replayed(&pair).await;
    // Within the freshness bound of the standby's replay.
    let started = Instant::now();
    while name_now().await != "After The Pause" {
        assert!(
            started.elapsed() < FRESHNESS_BOUND,
            "the cached answer outlived the standby's replay"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a local streaming replica: scripts/pg-replica.sh start (run by .ci/run)"]
async fn reads_fall_back_to_the_primary_while_the_standby_is_down_and_return_when_it_is_back() {
    let pair = pair();
    let _turn = SERIAL.lock().await;
    let replica = spawn(&pair, 5).await;
    let id = replica.create_beer("Served Through An Outage").await;
    wait_replayed(&pair).await;
    assert_eq!(replica.get_json_after_replay(&format!("/beers/{id}")).await.0, 200);
    let on_replica = replica.stat("reads_on_replica").await;
    assert!(on_replica >= 1);

    let mut stopped = StandbyStopped::new();
    // Straight away (before the monitor's next probe, reads find the replica gone and are answered by the
    // primary) and for as long as it stays down: no 503 while the primary serves.
    for path in [
        format!("/beers/{id}"),
        format!("/v2/beers/{id}"),
        "/beers".into(),
        "/v2/beers/random".into(),
    ] {
        // Without the fallback the first read would wait out DB_CONNECT_TIMEOUT_SECS (5 s) on the replica's
        // refused connections; it goes to the primary as soon as the monitor (each second) finds the standby gone.
        let started = Instant::now();
        assert_eq!(replica.status_of(&path).await, 200, "GET {path} with the standby down");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "GET {path} took {:?}",
            started.elapsed()
        );
    }
    let ready = replica
        .wait_for_replica("a fallback", |state| state == "fallback (unreachable)")
        .await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["read_replica_stats"]["fallbacks"], 1, "counted once: {ready}");
    let samples = replica.app.scrape().await;
    assert_eq!(samples.value(FALLBACKS, &[("reason", "unreachable")]), 1.0);
    assert_eq!(samples.value(FALLBACKS, &[("reason", "lagging")]), 0.0);
    assert_eq!(samples.value("beer_catalog_replica_in_use", &[]), 0.0);
    let on_primary = replica.stat("reads_on_primary").await;
    let id_written_during_outage = replica.create_beer("Written During The Outage").await;
    let (status, beer) = replica
        .app
        .get_json(&format!("/beers/{id_written_during_outage}"))
        .await;
    assert_eq!(
        (status, beer["name"].as_str()),
        (200, Some("Written During The Outage"))
    );
    assert!(
        replica.stat("reads_on_primary").await > on_primary,
        "the primary served the fallback's reads"
    );
    assert_eq!(
        replica.stat("reads_on_replica").await,
        on_replica,
        "nothing read from the stopped standby"
    );

    stopped.start_again();
    replica.wait_for_replica("back in use", in_use).await;
    wait_replayed(&pair).await;
    let (status, beer) = replica
        .get_json_after_replay(&format!("/beers/{id_written_during_outage}"))
        .await;
    assert_eq!(
        (status, beer["name"].as_str()),
        (200, Some("Written During The Outage"))
    );
    assert!(
        replica.stat("reads_on_replica").await > on_replica,
        "reads went back to the standby"
    );
    let ready = replica.ready().await;
    assert_eq!(ready["read_replica_stats"]["fallbacks"], 1, "{ready}");
    let samples = replica.app.scrape().await;
    assert_eq!(
        samples.value(FALLBACKS, &[("reason", "unreachable")]),
        1.0,
        "the return is not a fallback"
    );
    assert_eq!(samples.value("beer_catalog_replica_in_use", &[]), 1.0);
    // Both pools were used and are reported under their own label.
    for pool in ["primary", "replica"] {
        assert!(samples.value("beer_catalog_db_pool_acquire_duration_seconds_count", &[("pool", pool)]) >= 1.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a local streaming replica: scripts/pg-replica.sh start (run by .ci/run)"]
async fn reads_fall_back_while_the_standby_lags_beyond_the_bound_and_return_when_it_catches_up() {
    let pair = pair();
    let _turn = SERIAL.lock().await;
    let replica = spawn(&pair, 2).await;
    replica.wait_for_replica("in use", in_use).await;
    // Counted from here: on a loaded machine the standby's replay of the set-up writes may already have lagged
    // past the bound once; this test is about the fallback the paused replay causes.
    let lagging_before = replica.app.scrape().await.value(FALLBACKS, &[("reason", "lagging")]);
    let fallbacks_before = replica.ready().await["read_replica_stats"]["fallbacks"]
        .as_u64()
        .unwrap();

    let mut paused = ReplayPaused::new(&pair).await;
    let id = replica.create_beer("Written While The Standby Lags").await;
    let ready = replica
        .wait_for_replica("a lag fallback", |state| state.starts_with("fallback (lagging"))
        .await;
    assert!(
        ready["read_replica"]
            .as_str()
            .unwrap()
            .contains("DB_READ_MAX_LAG_SECS=2"),
        "{ready}"
    );
    assert!(
        ready["read_replica_stats"]["lag_seconds"].as_f64().unwrap() >= 2.0,
        "{ready}"
    );
    let samples = replica.app.scrape().await;
    assert_eq!(samples.value(FALLBACKS, &[("reason", "lagging")]) - lagging_before, 1.0);
    assert_eq!(samples.value(FALLBACKS, &[("reason", "unreachable")]), 0.0);
    assert_eq!(samples.value("beer_catalog_replica_in_use", &[]), 0.0);
    assert!(
        samples.value("beer_catalog_replica_lag_seconds", &[]) >= 2.0,
        "{}",
        samples.text
    );
    // The standby still lacks the beer; the primary answers, so the read is current.
    let (status, beer) = replica.app.get_json(&format!("/beers/{id}")).await;
    assert_eq!(
        (status, beer["name"].as_str()),
        (200, Some("Written While The Standby Lags"))
    );

    let on_replica = replica.stat("reads_on_replica").await;
    paused.resume().await;
    let ready = replica.wait_for_replica("back in use", in_use).await;
    assert!(
        ready["read_replica_stats"]["lag_seconds"].as_f64().unwrap() <= 2.0,
        "{ready}"
    );
    assert_eq!(
        ready["read_replica_stats"]["fallbacks"].as_u64().unwrap() - fallbacks_before,
        1,
        "{ready}"
    );
    assert_eq!(replica.status_of(&format!("/beers/{id}")).await, 200);
    assert!(
        replica.stat("reads_on_replica").await > on_replica,
        "reads went back to the standby"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a local streaming replica: scripts/pg-replica.sh start (run by .ci/run)"]
async fn the_service_starts_and_serves_with_the_standby_down_and_takes_it_up_later() {
    let pair = pair();
    let _turn = SERIAL.lock().await;
    let mut stopped = StandbyStopped::new();
    let replica = spawn_without_waiting_for_the_standby(&pair).await;
    let ready = replica.ready().await;
    assert_eq!(ready["read_replica"], "fallback (unreachable)", "{ready}");
    let id = replica.create_beer("Served Without A Standby").await;
    assert_eq!(replica.status_of(&format!("/beers/{id}")).await, 200);

    stopped.start_again();
    replica.wait_for_replica("in use", in_use).await;
    wait_replayed(&pair).await;
    assert_eq!(replica.get_json_after_replay(&format!("/beers/{id}")).await.0, 200);
    assert!(replica.stat("reads_on_replica").await >= 1);
}

/// [`spawn`] for a standby that is down: the schema cannot be waited for on it.
async fn spawn_without_waiting_for_the_standby(pair: &Pair) -> ReplicaApp {
    let database = Arc::new(TestDatabase::create_postgres_on(pair.primary.clone()).await);
    let name = url::Url::parse(&database.url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    let standby_url = with_database(&pair.standby, &name);
    let app = TestApp::spawn_on(
        database,
        &[&["--db-read-url", standby_url.as_str()][..], &ROUTING_ONLY[..]].concat(),
        |_| {},
    )
    .await;
    ReplicaApp { app, standby_url }
}
