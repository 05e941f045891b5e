//! Operations endpoints, routing fallbacks and cross-cutting headers: in-process, since none of it depends on the
//! backend (except readiness, which reports it).

use axum::body::Body;
use axum::http::Request;

use crate::backend_tests;
use crate::helpers::{TestApp, call, get_request, in_process};

#[tokio::test]
async fn health_answers_with_the_version() {
    let (app, _database) = in_process(&[]).await;
    let answer = call(&app, get_request("/health")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["status"], "ok");
    assert_eq!(answer.body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_in_each_dialect() {
    let (app, _database) = in_process(&[]).await;
    let answer = call(&app, get_request("/nope")).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.headers["content-type"], "application/problem+json");
    assert_eq!(answer.body["status"], 404);

    let answer = call(&app, get_request("/v2/nope")).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body["statusCode"], 404);
    assert_eq!(answer.body["error"], "Not Found");

    let patch = Request::patch("/beers/1").body(Body::empty()).unwrap();
    let answer = call(&app, patch).await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.body["detail"], "PATCH is not allowed on /beers/1");

    let post = Request::post("/v2/beers").body(Body::empty()).unwrap();
    let answer = call(&app, post).await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.body["statusCode"], 405);
}

#[tokio::test]
async fn request_ids_are_generated_or_echoed() {
    let (app, _database) = in_process(&[]).await;
    let traced = Request::get("/health")
        .header("x-request-id", "trace-me-42")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&app, traced).await.headers["x-request-id"], "trace-me-42");
    let answer = call(&app, get_request("/health")).await;
    assert_eq!(answer.headers["x-request-id"].len(), 36, "a UUID is generated");
}

#[tokio::test]
async fn reads_allow_any_origin() {
    let (app, _database) = in_process(&[]).await;
    let request = Request::get("/v2/beers")
        .header("origin", "https://tutorial.example")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&app, request).await.headers["access-control-allow-origin"], "*");
}

backend_tests! {
    async fn ready_checks_the_database(backend) {
        let app = TestApp::spawn(backend).await;
        let (status, body) = app.get_json("/ready").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "ready");
        let expected = if backend == crate::helpers::Backend::Sqlite { "sqlite" } else { "postgres" };
        assert_eq!(body["database"], expected);
        // No read replica configured: nothing about one (tests/api/replica.rs covers the other case).
        assert!(body.get("read_replica").is_none() && body.get("read_replica_stats").is_none(), "{body}");
    }
}

/// `DB_READ_URL` naming a primary (here the primary itself): reads stay on the primary and `/ready` says why, as
/// long as it lasts (it once said "in use" with only a WARN line in the log).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run `cargo test -- --include-ignored`"]
async fn ready_reports_a_read_database_that_is_not_a_standby() {
    let database = std::sync::Arc::new(crate::helpers::TestDatabase::create(crate::helpers::Backend::Postgres).await);
    let url = database.url.clone();
    let app = TestApp::spawn_on(database, &["--db-read-url", &url], |_| {}).await;
    for _ in 0..3 {
        let (status, body) = app.get_json("/ready").await;
        assert_eq!(status, 200, "the primary serves: {body}");
        assert_eq!(
            body["read_replica"], "fallback (not a standby: pg_is_in_recovery() is false, DB_READ_* names a primary)",
            "{body}"
        );
        assert_eq!(body["read_replica_stats"]["in_recovery"], false, "{body}");
        assert_eq!(
            body["read_replica_stats"]["fallbacks"], 1,
            "one switch, however long: {body}"
        );
        assert_eq!(app.get("/beers/1").await.status(), 404);
        assert_eq!(body["read_replica_stats"]["reads_on_replica"], 0, "{body}");
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    }
}
