//! The metrics listener (`--metrics-addr`): after a scripted workload, every counter the workload touches has
//! moved by exactly what the workload did, labels stay bounded (route templates, never ids), and a server without
//! the setting keeps no listener. The replica's fallback counter is checked where a standby exists
//! (`replica.rs`); `scripts/metrics-check.sh` has promtool and a real Prometheus read the same exposition.

use std::time::{Duration, Instant};

use crate::helpers::{Backend, Samples, TestApp, header, sample_beer, wait_until_current};

const REQUESTS: &str = "beer_catalog_http_requests_total";
const DURATION: &str = "beer_catalog_http_request_duration_seconds";
const CACHE: &str = "beer_catalog_response_cache_lookups_total";
const DECISIONS: &str = "beer_catalog_rate_limit_decisions_total";

/// Requests a client may make in the test's window: the workload below makes exactly this many before its 429.
const LIMIT: &str = "6";

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(
        backend,
        &["--metrics-addr", "127.0.0.1:0", "--rate-limit-per-hour", LIMIT],
        |_| {},
    )
    .await
}

/// Waits, without a request, until the version a write moved is read again and the read model has caught up, so
/// the next read is served and stored by the cache (a read right after a write bypasses it: see http/cache/mod.rs).
async fn settle(app: &TestApp) {
    let started = Instant::now();
    while app.catalog.freshness().current_version().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the version was not read again"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_until_current(&app.catalog.read_model().expect("the server runs a read model")).await;
}

fn requests(samples: &Samples, route: &str, method: &str, class: &str) -> f64 {
    samples.value(
        REQUESTS,
        &[("route", route), ("method", method), ("status_class", class)],
    )
}

crate::backend_tests! {
    async fn a_scripted_workload_moves_each_counter_by_exactly_what_it_did(backend) {
        let app = spawn(backend).await;
        settle(&app).await;
        let before = app.scrape().await;
        assert_eq!(before.sum(REQUESTS), 0.0, "no request yet:\n{}", before.text);
        let backend_name = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        let build = [("version", env!("CARGO_PKG_VERSION")), ("backend", backend_name)];
        assert_eq!(before.value("beer_catalog_build_info", &build), 1.0);

        // 1: a write.
        let (status, beer) = app.post_beer(&sample_beer("Counted Ale")).await;
        assert_eq!(status, 201, "{beer}");
        let id = beer["id"].as_i64().unwrap();
        settle(&app).await;
        // 2, 3: a miss that is stored, then a hit.
        let first = app.get(&format!("/beers/{id}")).await;
        assert_eq!(header(&first, "cache-status").as_deref(), Some("beer-catalog; fwd=uri-miss; stored"));
        let second = app.get(&format!("/beers/{id}")).await;
        assert_eq!(header(&second, "cache-status").as_deref(), Some("beer-catalog; hit"));
        // 4: a 404 of a known route (a cache miss, not stored); 5: a path no route knows (no cache lookup).
        assert_eq!(app.get("/beers/987654").await.status(), 404);
        assert_eq!(app.get("/no/such/path/42").await.status(), 404);
        // 6: a list, the last request the limit allows; 7: refused.
        assert_eq!(app.get("/beers").await.status(), 200);
        assert_eq!(app.get("/beers").await.status(), 429);

        let after = app.scrape().await;
        let moved = |name: &str, labels: &[(&str, &str)]| {
            after.value(name, labels) - before.get(name, labels).unwrap_or_default()
        };
        // Requests, by route template, method and status class.
        assert_eq!(requests(&after, "/beers", "POST", "2xx"), 1.0);
        assert_eq!(requests(&after, "/beers/{id}", "GET", "2xx"), 2.0);
        assert_eq!(requests(&after, "/beers/{id}", "GET", "4xx"), 1.0);
        assert_eq!(requests(&after, "unmatched", "GET", "4xx"), 1.0);
        assert_eq!(requests(&after, "/beers", "GET", "2xx"), 1.0);
        assert_eq!(requests(&after, "/beers", "GET", "4xx"), 1.0, "the 429");
        assert_eq!(after.sum(REQUESTS), 7.0, "nothing else counted:\n{}", after.text);
        let by_id = [("route", "/beers/{id}"), ("method", "GET")];
        assert_eq!(after.value(&format!("{DURATION}_count"), &by_id), 3.0);
        for le in ["0.001", "0.01", "0.1", "1", "10", "+Inf"] {
            let bucket = after.value(&format!("{DURATION}_bucket"), &[by_id[0], by_id[1], ("le", le)]);
            assert!(bucket <= 3.0, "le={le}: {bucket}");
        }
        assert_eq!(after.value(&format!("{DURATION}_bucket"), &[by_id[0], by_id[1], ("le", "+Inf")]), 3.0);
        assert_eq!(after.value("beer_catalog_http_requests_in_flight", &[]), 0.0);
        // Bounded labels: route templates only, never the ids or paths requested.
        for series in after.series() {
            assert!(!series.contains("987654") && !series.contains("/no/such"), "{series}");
        }

        // The response cache: the beer's first read, the 404 and the list missed; the beer's second read hit.
        assert_eq!(moved(CACHE, &[("outcome", "hit")]), 1.0);
        assert_eq!(moved(CACHE, &[("outcome", "miss")]), 3.0);
        assert_eq!(moved(CACHE, &[("outcome", "stale")]), 0.0);
        assert!(after.value("beer_catalog_response_cache_bytes", &[]) > 0.0);
        assert_eq!(after.value("beer_catalog_response_cache_evictions_total", &[]), 0.0);

        // The rate limiter: six allowed, the seventh limited, one client.
        assert_eq!(moved(DECISIONS, &[("decision", "allowed")]), 6.0);
        assert_eq!(moved(DECISIONS, &[("decision", "limited")]), 1.0);
        assert_eq!(after.value("beer_catalog_rate_limit_tracked_clients", &[]), 1.0);

        // The read model: the write was patched in, once; the beer's rendering was read from the database once
        // (its first read) and served from the copy for the list.
        assert_eq!(moved("beer_catalog_read_model_refreshes_total", &[("kind", "patch")]), 1.0);
        assert_eq!(moved("beer_catalog_read_model_refreshes_total", &[("kind", "rebuild")]), 0.0);
        assert_eq!(
            after.value("beer_catalog_read_model_refresh_duration_seconds_count", &[("kind", "patch")]),
            after.value("beer_catalog_read_model_refreshes_total", &[("kind", "patch")]),
        );
        assert_eq!(after.value("beer_catalog_read_model_version_lag", &[]), 0.0);
        assert_eq!(moved("beer_catalog_rendered_row_cache_lookups_total", &[("outcome", "miss")]), 1.0);
        assert_eq!(moved("beer_catalog_rendered_row_cache_lookups_total", &[("outcome", "hit")]), 1.0);

        // Store calls, in the backend: one insert, one read of a rendering; no errors.
        let store = "beer_catalog_store_call_duration_seconds_count";
        assert_eq!(moved(store, &[("operation", "create")]), 1.0);
        assert_eq!(moved(store, &[("operation", "rendered_rows")]), 1.0);
        assert_eq!(after.sum("beer_catalog_store_errors_total"), 0.0);
        // The pool, sampled at the scrape: within DB_MAX_CONNECTIONS (10), with PostgreSQL's `LISTEN` connection,
        // which the version follower holds for good, in use (others may be on their way back to the pool at that
        // moment); at least one acquire was timed.
        let primary = |state| [("pool", "primary"), ("state", state)];
        let (in_use, idle) = (
            after.value("beer_catalog_db_pool_connections", &primary("in_use")),
            after.value("beer_catalog_db_pool_connections", &primary("idle")),
        );
        assert!(in_use >= f64::from(u8::from(backend == Backend::Postgres)), "{in_use}");
        assert!(idle + in_use >= 1.0 && idle + in_use <= 10.0, "{idle} + {in_use}");
        assert!(moved("beer_catalog_db_pool_acquire_duration_seconds_count", &[("pool", "primary")]) >= 1.0);
        assert_eq!(after.value("beer_catalog_outage", &[]), 0.0);
        assert_eq!(after.sum("beer_catalog_outage_guard_transitions_total"), 0.0);
    }

    async fn an_outage_and_its_end_are_counted_once_each(backend) {
        let app = spawn(backend).await;
        settle(&app).await;
        let freshness = app.catalog.freshness();
        let down = beer_catalog::storage::StoreError::KnownDown;
        freshness.probe_failed(&down);
        freshness.probe_failed(&down);
        assert_eq!(app.scrape().await.value("beer_catalog_outage", &[]), 1.0);
        // The version follower's next read ends it.
        let started = Instant::now();
        while freshness.is_down() {
            assert!(started.elapsed() < Duration::from_secs(10), "the outage state did not clear");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let samples = app.scrape().await;
        let transitions = "beer_catalog_outage_guard_transitions_total";
        assert_eq!(samples.value(transitions, &[("to", "outage")]), 1.0, "counted on the change, not per report");
        assert_eq!(samples.value(transitions, &[("to", "recovered")]), 1.0);
        assert_eq!(samples.value("beer_catalog_outage", &[]), 0.0);
    }
}

crate::backend_independent_tests! {
    async fn without_metrics_addr_there_is_no_listener_and_nothing_is_kept(backend) {
        let app = TestApp::spawn(backend).await;
        assert!(app.metrics_address.is_none());
        assert_eq!(app.get("/beers").await.status(), 200);
    }

    async fn the_exposition_describes_every_metric_it_exports(backend) {
        let app = spawn(backend).await;
        assert_eq!(app.get("/beers").await.status(), 200);
        let samples = app.scrape().await;
        for described in beer_catalog::observability::names::CATALOGUE {
            let help = format!("# HELP {} ", described.name);
            let exported = samples.series().any(|series| {
                series.strip_prefix(described.name).is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with('{') || rest.starts_with("_bucket") || rest.starts_with("_count")
                })
            });
            if exported {
                assert!(samples.text.contains(&help), "{} has no HELP line", described.name);
            }
        }
        let response = app.client.get(format!("{}/metrics", app.metrics_address.as_ref().unwrap())).send().await.unwrap();
        assert_eq!(header(&response, "content-type").as_deref(), Some("text/plain; version=0.0.4; charset=utf-8"));
        // The API's port does not serve it.
        assert_eq!(app.get("/metrics").await.status(), 404);
    }
}
