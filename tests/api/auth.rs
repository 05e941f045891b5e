use beer_catalog::cli::AppEnv;
use beer_catalog::http::ApiKeys;
use reqwest::Method;
use serde_json::Value;

use crate::backend_independent_tests;
use crate::helpers::{TestApp, sample_beer};

backend_independent_tests! {
    async fn writes_need_a_valid_bearer_key_when_keys_are_configured(backend) {
        let digest = hex::encode(ApiKeys::digest("hashed-key"));
        let app = TestApp::spawn_with(backend, &["--api-keys", "plain-key,other", "--api-key-sha256", &digest], |_| {}).await;
        let beer = sample_beer("Guarded");

        for key in [None, Some("wrong"), Some("")] {
            let response = app.send_json(Method::POST, "/beers", key, &beer).await;
            assert_eq!(response.status(), 401, "{key:?}");
            assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="beer-catalog""#);
            let body: Value = response.json().await.unwrap();
            assert!(body["detail"].as_str().unwrap().contains("Authorization: Bearer"), "{body}");
        }
        let response = app.client.post(app.url("/beers")).basic_auth("plain-key", None::<&str>).json(&beer).send().await.unwrap();
        assert_eq!(response.status(), 401, "only bearer credentials count");

        let response = app.send_json(Method::POST, "/beers", Some("plain-key"), &beer).await;
        assert_eq!(response.status(), 201);
        let id = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let path = format!("/beers/{id}");
        assert_eq!(app.send_json(Method::PUT, &path, None, &beer).await.status(), 401);
        assert_eq!(app.send_json(Method::PUT, &path, Some("hashed-key"), &beer).await.status(), 200);
        assert_eq!(app.client.delete(app.url(&path)).send().await.unwrap().status(), 401);
        assert_eq!(app.client.delete(app.url(&path)).bearer_auth("other").send().await.unwrap().status(), 204);
        // Reads stay public.
        assert_eq!(app.get("/beers").await.status(), 200);
        assert_eq!(app.get("/v2/beers").await.status(), 200);
    }

    async fn production_without_keys_refuses_writes(backend) {
        let app = TestApp::spawn_with(backend, &[], |config| config.app_env = AppEnv::Production).await;
        let response = app.send_json(Method::POST, "/beers", Some("anything"), &sample_beer("Nope")).await;
        assert_eq!(response.status(), 403);
        let body: Value = response.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains("set API_KEYS"), "{body}");
        assert_eq!(app.client.delete(app.url("/beers/1")).send().await.unwrap().status(), 403);
        assert_eq!(app.get("/beers").await.status(), 200);
    }

    async fn development_without_keys_leaves_writes_open(backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.send_json(Method::POST, "/beers", None, &sample_beer("Open")).await.status(), 201);
    }
}
