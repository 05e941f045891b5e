//! Behaviour under stress: database outages, slow requests, panics and shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use beer_catalog::domain::ImageLimits;
use beer_catalog::http::rate_limit::RateLimiter;
use beer_catalog::http::{AppState, ImageSettings, WritePolicy, with_middleware};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::backend_independent_tests;
use crate::helpers::{Backend, TestApp, sample_beer};

/// A TCP proxy in front of PostgreSQL that can be cut (the database "goes down": connections drop, new ones
/// are refused) and restored, can delay the database's answers, and can pause like Aurora Serverless v2 at 0 ACU
/// (`pause`: open connections close; the next connection starts the resume, and every connection accepted until it
/// ends is held, TCP accepted but silent, then served). Other tests share the real server, so the outage is
/// simulated here rather than by stopping it.
pub(crate) struct DbProxy {
    pub(crate) port: u16,
    up: Arc<AtomicBool>,
    delay_ms: Arc<AtomicU64>,
    pause: Arc<Pause>,
}

/// The proxy's pause: how long a resume takes, when the current one ends (ms since `epoch`; 0: none started), and
/// a signal that closes the connections open when it paused.
struct Pause {
    epoch: Instant,
    paused: AtomicBool,
    resume_ms: AtomicU64,
    resumed_at_ms: AtomicU64,
    cut: tokio::sync::Notify,
}

impl Pause {
    /// Holds a new connection while paused: the first one starts the resume, all wait for its end.
    async fn hold(&self) {
        if !self.paused.load(Ordering::SeqCst) {
            return;
        }
        let now = self.epoch.elapsed().as_millis() as u64;
        let resume = self.resume_ms.load(Ordering::SeqCst);
        let _ = self
            .resumed_at_ms
            .compare_exchange(0, now + resume, Ordering::SeqCst, Ordering::SeqCst);
        let until = self.resumed_at_ms.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(until.saturating_sub(now))).await;
        self.paused.store(false, Ordering::SeqCst);
    }
}

impl DbProxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let pause = Arc::new(Pause {
            epoch: Instant::now(),
            paused: AtomicBool::new(false),
            resume_ms: AtomicU64::new(0),
            resumed_at_ms: AtomicU64::new(0),
            cut: tokio::sync::Notify::new(),
        });
        let (up2, delay2, pause2) = (up.clone(), delay_ms.clone(), pause.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection closed
                }
                let (up, delay, pause) = (up2.clone(), delay2.clone(), pause2.clone());
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    pause.hold().await; // accepted, silent until the database has resumed
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        () = pipe(client, server, up, delay) => {}
                        () = pause.cut.notified() => {}
                    }
                });
            }
        });
        DbProxy {
            port,
            up,
            delay_ms,
            pause,
        }
    }

    /// Pauses the database: open connections close now; connections from now on are held until `resume` after
    /// the first of them (Aurora resumes on the first connection attempt), then served.
    pub(crate) fn pause(&self, resume: Duration) {
        let pause = &self.pause;
        pause.resume_ms.store(resume.as_millis() as u64, Ordering::SeqCst);
        pause.resumed_at_ms.store(0, Ordering::SeqCst);
        pause.paused.store(true, Ordering::SeqCst);
        pause.cut.notify_waiters();
    }

    pub(crate) fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }
}

async fn pipe(client: TcpStream, server: TcpStream, up: Arc<AtomicBool>, delay_ms: Arc<AtomicU64>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up_in = up.clone();
    let to_server = async move {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(n) = client_read.read(&mut buffer).await {
            if n == 0 || !up_in.load(Ordering::SeqCst) || server_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
    };
    let to_client = async move {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(n) = server_read.read(&mut buffer).await {
            if n == 0 || !up.load(Ordering::SeqCst) {
                break;
            }
            let delay = delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            if client_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
    };
    // Whichever direction ends first (including a cut) closes both.
    tokio::select! { () = to_server => {}, () = to_client => {} }
}

/// A test database reached through a proxy: `(app, proxy)`.
pub(crate) async fn app_behind_proxy(args: &[&str]) -> (TestApp, DbProxy) {
    let database = Arc::new(crate::helpers::TestDatabase::create(Backend::Postgres).await);
    let mut url = url::Url::parse(&database.url).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = DbProxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let proxied = url.to_string();
    let app = TestApp::spawn_on(database, args, |config| {
        config.database = beer_catalog::storage::DatabaseUrl::parse(&proxied).unwrap();
    })
    .await;
    (app, proxy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run `cargo test -- --include-ignored`"]
async fn a_database_outage_is_survived_without_a_restart() {
    let (app, proxy) = app_behind_proxy(&["--db-connect-timeout-secs", "1"]).await;
    assert_eq!(app.post_beer(&sample_beer("Before")).await.0, 201);

    proxy.set_up(false);
    let started = Instant::now();
    for (method, path) in [
        ("GET", "/beers"),
        ("GET", "/v2/beers"),
        ("GET", "/beers/1"),
        ("POST", "/beers"),
    ] {
        let request = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .json(&sample_beer("During"));
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 503, "{method} {path}");
        assert_eq!(response.headers()["retry-after"], "5");
        let body: Value = response.json().await.unwrap();
        let message = body["detail"].as_str().or(body["message"].as_str()).unwrap();
        assert_eq!(message, "the database is unavailable; retry shortly");
    }
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "requests fail fast: {:?}",
        started.elapsed()
    );
    let (status, ready) = app.get_json("/ready").await;
    assert_eq!(status, 503);
    assert_eq!(ready["status"], "unavailable");
    assert!(ready["reason"].as_str().is_some_and(|r| !r.is_empty()), "{ready}");
    assert_eq!(
        app.get("/health").await.status(),
        200,
        "liveness does not depend on the database"
    );

    proxy.set_up(true);
    let mut recovered = false;
    for _ in 0..20 {
        if app.get("/ready").await.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "readiness comes back by itself");
    let beers: Vec<Value> = app.get("/beers").await.json().await.unwrap();
    assert_eq!(beers.len(), 1);
    assert_eq!(app.post_beer(&sample_beer("After")).await.0, 201);
}

/// Polls `path` until it answers `status`; how long that took.
async fn until_status(app: &TestApp, path: &str, status: u16, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if app.get(path).await.status() == status {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "{path} did not answer {status} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run `cargo test -- --include-ignored`"]
async fn a_known_outage_is_answered_at_once_and_cached_reads_are_served_stale() {
    // A 5 s connect timeout: what requests would each wait without the outage fast path.
    let (app, proxy) = app_behind_proxy(&["--db-connect-timeout-secs", "5"]).await;
    assert_eq!(app.post_beer(&sample_beer("Cached")).await.0, 201);
    let started = Instant::now();
    loop {
        let response = app.get("/v2/beers/1").await;
        if response
            .headers()
            .get("cache-status")
            .is_some_and(|v| v == "beer-catalog; hit")
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the answer never came from the cache"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    proxy.set_up(false);
    // The background probe finds the outage by itself, without a request paying for it.
    until_status(&app, "/ready", 503, Duration::from_secs(3)).await;

    for (method, path) in [
        ("GET", "/beers/2"),
        ("GET", "/v2/beers?abv_gt=1"),
        ("POST", "/beers"),
        ("PUT", "/beers/1"),
    ] {
        let started = Instant::now();
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .json(&sample_beer("During"))
            .send()
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(response.status(), 503, "{method} {path}");
        assert_eq!(response.headers()["retry-after"], "5");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert!(
            took < Duration::from_secs(1),
            "{method} {path}: answered at once, not after the connect timeout: {took:?}"
        );
    }
    let started = Instant::now();
    let (status, ready) = app.get_json("/ready").await;
    assert_eq!((status, ready["status"].as_str()), (503, Some("unavailable")));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "/ready knows at once: {:?}",
        started.elapsed()
    );

    // A cached read is still served, marked stale (RFC 9211), and not for reuse downstream.
    let stale = app.get("/v2/beers/1").await;
    assert_eq!(stale.status(), 200);
    assert_eq!(
        stale.headers()["cache-status"],
        "beer-catalog; hit; detail=stale-if-error"
    );
    assert_eq!(stale.headers()["cache-control"], "no-cache");
    let body: Value = stale.json().await.unwrap();
    assert_eq!(body[0]["name"], "Cached");

    proxy.set_up(true);
    let recovered_after = until_status(&app, "/ready", 200, Duration::from_secs(2)).await;
    eprintln!("recovered {recovered_after:?} after the database came back");
    let fresh = app.get("/v2/beers/1").await;
    assert_eq!(fresh.status(), 200);
    assert_ne!(
        fresh.headers()["cache-status"],
        "beer-catalog; hit; detail=stale-if-error"
    );
    assert_eq!(app.post_beer(&sample_beer("After")).await.0, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run `cargo test -- --include-ignored`"]
async fn slow_requests_time_out_with_json() {
    // Every read from SQL, so that each one waits on the delayed database: a warm read model answers an empty
    // catalog's lists without it.
    let (app, proxy) = app_behind_proxy(&["--request-timeout-secs", "1", "--read-model", "database"]).await;
    proxy.set_delay(Duration::from_millis(1500));
    let started = Instant::now();
    let response = app.get("/beers").await;
    assert_eq!(response.status(), 503);
    assert!(
        started.elapsed() < Duration::from_millis(1450),
        "answered at the timeout: {:?}",
        started.elapsed()
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["detail"], "the request took longer than 1 seconds");
    let (status, body) = app.get_json("/v2/beers").await;
    assert_eq!((status, body["statusCode"].as_u64()), (503, Some(503)));
    proxy.set_delay(Duration::ZERO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run `cargo test -- --include-ignored`"]
async fn shutdown_finishes_in_flight_requests() {
    let (mut app, proxy) = app_behind_proxy(&["--shutdown-grace-secs", "15"]).await;
    assert_eq!(app.post_beer(&sample_beer("Stays")).await.0, 201);
    proxy.set_delay(Duration::from_millis(300));
    let in_flight = tokio::spawn({
        let (client, url) = (app.client.clone(), app.url("/beers"));
        async move { client.get(url).send().await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    app.stop().await.expect("the server stops cleanly");
    let response = in_flight.await.unwrap();
    assert_eq!(response.status(), 200, "the request in flight was answered");
    assert_eq!(response.json::<Vec<Value>>().await.unwrap().len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "stopped before the grace period ran out: {:?}",
        started.elapsed()
    );
    assert!(
        app.client.get(app.url("/health")).send().await.is_err(),
        "no new connections after shutdown"
    );
}

async fn boom() -> &'static str {
    panic!("test panic")
}

backend_independent_tests! {
    async fn a_panicking_handler_is_a_500_and_the_server_keeps_serving(backend) {
        let app = TestApp::spawn(backend).await;
        let routes: Router<AppState> = Router::new()
            .route("/boom", get(boom))
            .route("/slow", get(|| async { tokio::time::sleep(Duration::from_secs(3)).await; "late" }));
        let images = ImageSettings {
            public_base_url: None,
            limits: ImageLimits { max_bytes: 1024, max_dimension: 64 },
        };
        let state = AppState::new(app.catalog.clone(), WritePolicy::Open, images);
        let router = with_middleware(routes, Duration::from_secs(1), RateLimiter::disabled()).with_state(state);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

        for _ in 0..2 {
            let response = app.client.get(format!("{base}/boom")).send().await.unwrap();
            assert_eq!(response.status(), 500);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["detail"], "internal server error", "the panic message is not leaked");
        }
        let response = app.client.get(format!("{base}/slow")).send().await.unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "5");
        assert_eq!(app.get("/health").await.status(), 200);
    }

    async fn the_healthcheck_command_passes_against_a_running_server(backend) {
        let app = TestApp::spawn(backend).await;
        let output = crate::helpers::binary()
            .args(["healthcheck", "--url", &app.url("/health")])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
    }
}
