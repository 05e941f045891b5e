//! `TestApp::spawn`: the real application on a random port, over its own fresh database (a temporary SQLite file,
//! or a PostgreSQL database created for the test and dropped after it). `in_process`: the same router without a
//! socket, for tests that do not depend on the backend (`Router::oneshot`, as axum's `examples/testing`).
//!
//! `TEST_LOG=1 cargo test ...` shows the server's logs for the tests that run (zero2prod's `helpers.rs`).

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use beer_catalog::cli::Cli;
use beer_catalog::config::Config;
use beer_catalog::startup::Application;
use beer_catalog::storage::{self, Catalog, StackSettings};
use clap::Parser;
use serde_json::Value;
use tokio::sync::oneshot;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on. A PostgreSQL test that runs without it fails, saying
/// what to set: it never passes having tested nothing.
pub fn postgres_admin_url() -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("TEST_DATABASE_URL is not set: point it at a PostgreSQL server the tests may create databases on"),
    }
}

/// Logs for the tests when `TEST_LOG` is set, installed once per test binary.
pub fn init_test_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var("TEST_LOG").is_ok_and(|v| !v.is_empty() && v != "0") {
            beer_catalog::telemetry::init("info,beer_catalog=debug", beer_catalog::cli::LogFormat::Pretty);
        }
    });
}

/// The Punk API dataset beside the repository (`../shared`: its licence keeps it out of the repository). The tests
/// that need it are `#[ignore]`d with that reason ([`backend_tests!`]), so one that runs without it fails saying
/// what is missing: it never passes having tested nothing.
pub fn punk_dataset_path() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/punkapi/beers.json");
    assert!(
        path.exists(),
        "{} is missing: this test needs the Punk dataset beside the repository",
        path.display()
    );
    path
}

pub fn punk_dataset() -> Vec<Value> {
    let text = std::fs::read_to_string(punk_dataset_path()).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A port nothing listens on (yet), for a server process a test starts.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The built `beer-catalog` binary, to run as a deploy or an operator would.
pub fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_beer-catalog"))
}

/// The binary against `database_url` and nothing else from the environment, logging warnings only: add the
/// arguments (and any settings), then run or spawn it.
pub fn beer_catalog_on(database_url: &str) -> Command {
    let mut command = binary();
    command
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("LOG_LEVEL", "warn");
    command
}

/// Runs the binary with `args` against `database_url` ([`beer_catalog_on`]) to the end.
pub fn beer_catalog(database_url: &str, args: &[&str]) -> Output {
    beer_catalog_on(database_url).args(args).output().unwrap()
}

/// A database of the test's own, removed when dropped.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        let name = format!("beer_test_{}", uuid::Uuid::new_v4().simple());
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join("beer-catalog-tests");
                std::fs::create_dir_all(&dir).unwrap();
                let path = dir.join(format!("{name}.db"));
                TestDatabase {
                    url: format!("sqlite://{}", path.display()),
                    cleanup: Cleanup::File(path),
                }
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                Self::create_postgres_on(admin_url).await
            }
        }
    }

    /// A fresh database on the PostgreSQL server `admin_url` names (e.g. the replica tests' own primary).
    pub async fn create_postgres_on(admin_url: String) -> Self {
        let name = format!("beer_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = pg_connect(&admin_url).await;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&name);
        TestDatabase {
            url: url.to_string(),
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }
}

/// A connection to the PostgreSQL server at `url` (`TEST_DATABASE_URL`, the replica pair, a database of a test's
/// own), for SQL outside the service; a server that cannot be reached fails the test, saying which.
pub async fn pg_connect(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url).await.unwrap_or_else(|e| {
        let mut shown = url::Url::parse(url).unwrap();
        let _ = shown.set_password(None);
        panic!("cannot connect to PostgreSQL at {shown}: {e}")
    })
}

/// Runs `statement` on the PostgreSQL server at `url` from a `Drop` (a test database dropped, replay resumed),
/// even when the test failed, ignoring errors. Drop runs inside the test's runtime, which cannot be blocked on:
/// this uses a thread with a runtime of its own.
pub fn execute_while_dropping(url: String, statement: String) {
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let _ = sqlx::query(&statement).execute(&mut pg_connect(&url).await).await;
        });
    })
    .join();
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                execute_while_dropping(
                    admin_url.clone(),
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                );
            }
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// The server's storage stack: tests read and write through it directly.
    pub catalog: Catalog,
    pub database_url: String,
    /// `http://127.0.0.1:<port>` of the metrics listener, when the app was given `--metrics-addr`.
    pub metrics_address: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    // Last: the database goes after the server and store that use it.
    _database: Arc<TestDatabase>,
}

/// Command-line style settings for a test app, on top of a fresh database.
pub fn config_for(database_url: &str, args: &[&str]) -> Config {
    let mut argv = vec![
        "beer-catalog",
        "--database-url",
        database_url,
        "--port",
        "0",
        "--bind",
        "127.0.0.1",
    ];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    Config::from_settings(&cli.settings).unwrap()
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[], |_| {}).await
    }

    /// `args` are command-line settings (e.g. `["--api-keys", "k"]`); `adjust` may change the built config.
    pub async fn spawn_with(backend: Backend, args: &[&str], adjust: impl FnOnce(&mut Config)) -> Self {
        let database = Arc::new(TestDatabase::create(backend).await);
        Self::spawn_on(database, args, adjust).await
    }

    /// The application over `database`, migrated on start (tests run as development) through its own one pool.
    pub async fn spawn_on(database: Arc<TestDatabase>, args: &[&str], adjust: impl FnOnce(&mut Config)) -> Self {
        init_test_logging();
        let mut config = config_for(&database.url, args);
        adjust(&mut config);
        if !config.migrates_on_open() {
            // A production-mode test app: its schema comes from a migration run first, as in a deploy.
            let store = storage::connect(&config.database, &config.store).await.unwrap();
            store.migrate().await.unwrap();
            store.close().await;
        }
        let app = Application::build(&config).await.unwrap();
        let catalog = app.catalog();
        // As the load balancer would: traffic once the read model is warm (or no longer waited for), unless the test
        // holds the warm-up to look at it.
        if config.read_model_warmup.hold.is_none() {
            wait_until_started(&catalog).await;
        }
        let address = format!("http://127.0.0.1:{}", app.port());
        let metrics_address = app.metrics_port().map(|port| format!("http://127.0.0.1:{port}"));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        TestApp {
            address,
            client,
            catalog,
            database_url: database.url.clone(),
            metrics_address,
            shutdown: Some(shutdown),
            server: Some(server),
            _database: database,
        }
    }

    /// Sends the shutdown signal and waits for the server to finish.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.server.take() {
            Some(server) => server.await?,
            None => Ok(()),
        }
    }

    pub fn port(&self) -> u16 {
        self.address
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// The metrics listener's exposition, as samples (panics when the app has no `--metrics-addr`).
    pub async fn scrape(&self) -> Samples {
        let address = self.metrics_address.as_ref().expect("spawned with --metrics-addr");
        let response = self.client.get(format!("{address}/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        Samples::parse(&response.text().await.unwrap())
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, self.url(path)).json(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send().await.unwrap()
    }

    pub async fn post_beer(&self, body: &Value) -> (u16, Value) {
        let response = self.send_json(reqwest::Method::POST, "/beers", None, body).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Loads the Punk API dataset with its ids.
    pub async fn import_punk_dataset(&self) {
        let text = std::fs::read_to_string(punk_dataset_path()).unwrap();
        let plan = beer_catalog::commands::import::plan(&text, false).unwrap();
        assert_eq!(plan.records.len(), 325, "skipped: {:?}", plan.skipped);
        self.catalog.writes().import(&plan.records, &|_| {}).await.unwrap();
    }

    /// Every beer a `/v2/beers` query matches, walking its pages.
    pub async fn all_pages(&self, base: &str, query: &str) -> Vec<Value> {
        let mut beers = Vec::new();
        for page in 1.. {
            let separator = if query.is_empty() { "" } else { "&" };
            let (status, body) = self
                .get_json(&format!("{base}?{query}{separator}per_page=80&page={page}"))
                .await;
            assert_eq!(status, 200, "{base}?{query}: {body}");
            let items = body.as_array().unwrap().clone();
            if items.is_empty() {
                break;
            }
            beers.extend(items);
        }
        beers
    }
}

/// The application's router over a fresh SQLite database, without a socket: for tests whose subject does not
/// depend on the backend (routing, error shapes, validation, auth, headers). Keep the database alive as long as
/// the router.
pub async fn in_process(args: &[&str]) -> (axum::Router, TestDatabase) {
    init_test_logging();
    let database = TestDatabase::create(Backend::Sqlite).await;
    let config = config_for(&database.url, args);
    let store = storage::connect(&config.database, &config.store).await.unwrap();
    store.migrate().await.unwrap();
    // SQL for every read: what these tests look at does not depend on the read model.
    let catalog = storage::open(
        store,
        &StackSettings {
            replica: None,
            read_model: None,
            metrics: Default::default(),
        },
    )
    .await
    .unwrap();
    let state = beer_catalog::http::AppState::new(
        catalog,
        beer_catalog::http::WritePolicy::new(config.api_keys.clone(), config.is_production()),
        // No socket, so no listening address to link images to: PUBLIC_BASE_URL, or a stand-in host.
        beer_catalog::http::ImageSettings {
            public_base_url: Some(
                config
                    .public_base_url
                    .as_ref()
                    .map_or("http://localhost".to_owned(), |url| url.as_str().to_owned()),
            ),
            limits: config.image_limits,
        },
    );
    // No socket, so no peer address to limit by: the limiter is tested through a real server (rate_limit.rs).
    let limiter = beer_catalog::http::rate_limit::RateLimiter::disabled();
    (
        beer_catalog::http::app(state, config.request_timeout, limiter),
        database,
    )
}

/// An answer from [`call`]: status, headers and the body as JSON (`Null` when empty or not JSON).
pub struct Answer {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

/// Sends one request through the router in-process.
pub async fn call(router: &axum::Router, request: axum::http::Request<axum::body::Body>) -> Answer {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// A GET request for [`call`].
pub fn get_request(path: &str) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::get(path).body(axum::body::Body::empty()).unwrap()
}

/// A small valid beer for write tests.
pub fn sample_beer(name: &str) -> Value {
    serde_json::json!({
        "name": name,
        "tagline": "A test beer.",
        "first_brewed": "04/2015",
        "description": "Brewed by the test suite.",
        "image_url": "https://example.com/beer.png",
        "abv": 5.5,
        "ibu": 35,
        "ebc": 12,
        "srm": 6,
        "ph": 4.4,
        "volume": {"value": 20, "unit": "litres"},
        "ingredients": {
            "malt": [{"name": "Maris Otter", "amount": {"value": 4.5, "unit": "kilograms"}}],
            "hops": [{"name": "Citra", "amount": {"value": 30, "unit": "grams"}, "add": "end", "attribute": "aroma"}],
            "yeast": "Wyeast 1056 - American Ale"
        },
        "food_pairing": ["Spicy tacos", "Aged cheddar"],
        "style": "American Pale Ale"
    })
}

/// Runs each test body once on SQLite and once on PostgreSQL (`mod sqlite`, `mod postgres`). A test may carry an
/// `#[ignore = "reason"]` of its own (e.g. it needs the Punk dataset from `../shared`), applied to the SQLite copy;
/// the PostgreSQL copy is
/// `#[ignore]`d, so `cargo test` alone needs nothing but the toolchain and reports those tests as ignored (with the
/// reason) rather than passed; `.ci/run` runs them with `--include-ignored`.
#[macro_export]
macro_rules! backend_tests {
    ($($(#[ignore = $reason:literal])? async fn $name:ident($backend:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                $(#[ignore = $reason])?
                async fn $name() {
                    let $backend = $crate::helpers::Backend::Sqlite;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run `cargo test -- --include-ignored`"]
                async fn $name() {
                    let $backend = $crate::helpers::Backend::Postgres;
                    $body
                }
            )*
        }
    };
}

/// Tests whose subject does not depend on the storage backend (auth, validation, error shapes): they run once, on
/// SQLite, against the real server.
#[macro_export]
macro_rules! backend_independent_tests {
    ($(async fn $name:ident($backend:ident) $body:block)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let $backend = $crate::helpers::Backend::Sqlite;
                $body
            }
        )*
    };
}

/// The promise across processes: a write by any writer (another instance, an `import` job) is visible on every
/// instance within this.
pub const FRESHNESS_BOUND: Duration = Duration::from_secs(1);

/// Polls `check` until it holds, failing when it still does not after [`FRESHNESS_BOUND`]: for what another
/// process wrote, which an instance may show only within the bound.
pub async fn within_bound<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < FRESHNESS_BOUND,
            "{what}: not seen {:?} after the write",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A response header's value as text, `None` when absent.
pub fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

/// Waits until the server's read model no longer holds it back from traffic (`/started` would answer 200): a build
/// of a test catalog takes milliseconds.
pub async fn wait_until_started(catalog: &Catalog) {
    let started = std::time::Instant::now();
    while catalog.warmth().is_some_and(|warmth| !warmth.is_settled()) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the read model was not warm within 30 s: {:?}",
            catalog.warmth()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until `model` is built (or patched) at the catalog's current version.
pub async fn wait_until_current(model: &beer_catalog::storage::ReadModel) {
    let started = std::time::Instant::now();
    while !model.is_current().await.unwrap() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the read model was not current within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A Prometheus text exposition's samples, by series: the name and its labels sorted by name
/// (`beer_catalog_http_requests_total{method="GET",route="/beers",status_class="2xx"}`), so a lookup does not depend
/// on the order the exporter writes labels in.
#[derive(Debug)]
pub struct Samples {
    pub text: String,
    values: std::collections::BTreeMap<String, f64>,
}

impl Samples {
    pub fn parse(text: &str) -> Self {
        let mut values = std::collections::BTreeMap::new();
        for line in text.lines().filter(|line| !line.is_empty() && !line.starts_with('#')) {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a value: {line}"));
            let key = match series.split_once('{') {
                None => series.to_owned(),
                Some((name, labels)) => {
                    let labels = labels.strip_suffix('}').unwrap();
                    let mut pairs: Vec<&str> = split_labels(labels);
                    pairs.sort_unstable();
                    format!("{name}{{{}}}", pairs.join(","))
                }
            };
            assert!(values.insert(key, value).is_none(), "a series appears twice: {line}");
        }
        Samples {
            text: text.to_owned(),
            values,
        }
    }

    /// The sample of `name` with exactly these labels (any order); `None` when the series is not exported.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        pairs.sort_unstable();
        let key = match pairs.is_empty() {
            true => name.to_owned(),
            false => format!("{name}{{{}}}", pairs.join(",")),
        };
        self.values.get(&key).copied()
    }

    /// As [`Samples::get`], failing when the series is missing.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels)
            .unwrap_or_else(|| panic!("no {name} {labels:?} in the exposition:\n{}", self.text))
    }

    /// The sum of every series of `name`, whatever its labels (0 when none is exported).
    pub fn sum(&self, name: &str) -> f64 {
        self.values
            .iter()
            .filter(|(series, _)| series.split('{').next() == Some(name))
            .map(|(_, value)| value)
            .sum()
    }

    pub fn series(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

/// `a="x",b="y,z"` into its pairs (a comma inside a quoted value does not split).
fn split_labels(labels: &str) -> Vec<&str> {
    let (mut pairs, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (at, c) in labels.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                pairs.push(&labels[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    if start < labels.len() {
        pairs.push(&labels[start..]);
    }
    pairs
}
