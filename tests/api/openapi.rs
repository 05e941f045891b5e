//! The public contract: the OpenAPI document is snapshotted whole (`tests/api/snapshots/`), so any change to a
//! path, parameter, schema or response shows in review; and every documented operation is really routed.

use axum::body::Body;
use axum::http::Request;
use serde_json::Value;

use crate::helpers::{call, get_request, in_process};

#[tokio::test]
async fn the_openapi_document_is_the_reviewed_one() {
    let (app, _database) = in_process(&[]).await;
    let answer = call(&app, get_request("/openapi.json")).await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.body["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        answer.body["openapi"]
    );
    // A deliberate change: `cargo insta review` (or INSTA_UPDATE=always) and commit the new snapshot.
    insta::assert_json_snapshot!("openapi", answer.body);
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let (app, _database) = in_process(&[]).await;
    let document = call(&app, get_request("/openapi.json")).await.body;
    let mut operations = 0;
    for (path, methods) in document["paths"].as_object().unwrap() {
        for method in methods.as_object().unwrap().keys() {
            operations += 1;
            let concrete = path
                .replace("{id}", "1")
                .replace("{file}", &format!("{}.png", "0".repeat(64)));
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&concrete)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let answer = call(&app, request).await;
            let detail = answer.body["detail"]
                .as_str()
                .or(answer.body["message"].as_str())
                .unwrap_or_default();
            // The router's own fallbacks (no route, wrong method) never answer a documented operation.
            assert!(
                answer.status != 405 && !detail.starts_with("no route"),
                "{method} {concrete} is documented but not routed: {} {}",
                answer.status,
                answer.body
            );
        }
    }
    assert!(operations >= 12, "only {operations} operations documented");
    // Error shapes are documented for both dialects.
    let schemas: &serde_json::Map<String, Value> = document["components"]["schemas"].as_object().unwrap();
    for schema in ["Problem", "PunkErrorBody", "Beer", "PunkBeer", "BeerFields"] {
        assert!(schemas.contains_key(schema), "missing schema {schema}");
    }
}
