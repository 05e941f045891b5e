use serde_json::Value;

use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests! {
    async fn health_answers_with_the_version(backend) {
        let app = TestApp::spawn(backend).await;
        let (status, body) = app.get_json("/health").await;
        assert_eq!(status, 200);
        assert_eq!(body["status"], "ok");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    }

    async fn ready_checks_the_database(backend) {
        let app = TestApp::spawn(backend).await;
        let (status, body) = app.get_json("/ready").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "ready");
        let expected = if backend == crate::helpers::Backend::Sqlite { "sqlite" } else { "postgres" };
        assert_eq!(body["database"], expected);
    }

    async fn unknown_routes_and_methods_get_json_in_each_dialect(backend) {
        let app = TestApp::spawn(backend).await;
        let response = app.get("/nope").await;
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], 404);

        let (status, body) = app.get_json("/v2/nope").await;
        assert_eq!(status, 404);
        assert_eq!(body["statusCode"], 404);
        assert_eq!(body["error"], "Not Found");

        let response = app.client.patch(app.url("/beers/1")).send().await.unwrap();
        assert_eq!(response.status(), 405);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["detail"], "PATCH is not allowed on /beers/1");

        let response = app.client.post(app.url("/v2/beers")).send().await.unwrap();
        assert_eq!(response.status(), 405);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["statusCode"], 405);
    }

    async fn request_ids_are_generated_or_echoed(backend) {
        let app = TestApp::spawn(backend).await;
        let response = app.client.get(app.url("/health")).header("x-request-id", "trace-me-42").send().await.unwrap();
        assert_eq!(response.headers()["x-request-id"], "trace-me-42");
        let response = app.get("/health").await;
        assert_eq!(response.headers()["x-request-id"].len(), 36, "a UUID is generated");
    }

    async fn reads_allow_any_origin(backend) {
        let app = TestApp::spawn(backend).await;
        let response = app.client.get(app.url("/v2/beers")).header("origin", "https://tutorial.example").send().await.unwrap();
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
    }

    async fn the_openapi_document_matches_the_router(backend) {
        let app = TestApp::spawn(backend).await;
        let (status, document) = app.get_json("/openapi.json").await;
        assert_eq!(status, 200);
        assert!(document["openapi"].as_str().unwrap().starts_with("3.1"), "{}", document["openapi"]);
        let paths = document["paths"].as_object().unwrap();
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, operations) in paths {
            for method in operations.as_object().unwrap().keys() {
                documented.push((method.to_uppercase(), path.clone()));
            }
        }
        documented.sort();
        let expected = [
            ("DELETE", "/beers/{id}"), ("DELETE", "/beers/{id}/image"), ("GET", "/beers"), ("GET", "/beers/random"),
            ("GET", "/beers/{id}"), ("GET", "/health"), ("GET", "/images/{file}"), ("GET", "/openapi.json"),
            ("GET", "/ready"), ("GET", "/v2/beers"), ("GET", "/v2/beers/random"), ("GET", "/v2/beers/{id}"),
            ("HEAD", "/images/{file}"), ("POST", "/beers"), ("PUT", "/beers/{id}"), ("PUT", "/beers/{id}/image"),
        ];
        let expected: Vec<(String, String)> = expected.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
        assert_eq!(documented, expected);
        // Every documented operation is routed: the router's own fallbacks (no route, wrong method) never answer.
        for (method, path) in &documented {
            let concrete = path.replace("{id}", "1").replace("{file}", &format!("{}.png", "0".repeat(64)));
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let response = app.client.request(method.clone(), app.url(&concrete)).json(&serde_json::json!({})).send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let detail = body["detail"].as_str().or(body["message"].as_str()).unwrap_or_default().to_owned();
            assert!(status != 405 && !detail.starts_with("no route"), "{method} {concrete} is documented but not routed: {status} {body}");
        }
        // Error shapes are documented for both dialects.
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for schema in ["Problem", "PunkErrorBody", "Beer", "PunkBeer", "BeerFields"] {
            assert!(schemas.contains_key(schema), "missing schema {schema}");
        }
    }
}
