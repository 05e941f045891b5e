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
