//! What a hostile review found (issue 19): answers that must stay bounded and honest whatever a client sends, and
//! database refusals that are outages, not server errors.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, postgres_admin_url, sample_beer};
use crate::images::png;
use crate::{backend_independent_tests, backend_tests};

backend_independent_tests! {
    async fn the_auth_scheme_is_case_insensitive(backend) {
        let app = TestApp::spawn_with(backend, &["--api-keys", "secret-key"], |_| {}).await;
        for (authorization, status) in [
            ("Bearer secret-key", 201),
            ("bearer secret-key", 201),
            ("BEARER secret-key", 201),
            ("Basic secret-key", 401),
            ("bearersecret-key", 401),
            ("bearer wrong-key", 401),
        ] {
            let response = app
                .client
                .post(app.url("/beers"))
                .header("authorization", authorization)
                .json(&sample_beer(authorization))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), status, "{authorization}");
        }
    }

    async fn a_client_request_id_is_echoed_only_when_short_and_plain(backend) {
        let app = TestApp::spawn(backend).await;
        let echoed = |id: String| {
            let app = &app;
            async move {
                let response = app.client.get(app.url("/health")).header("x-request-id", &id).send().await.unwrap();
                response.headers()["x-request-id"].to_str().unwrap().to_owned()
            }
        };
        assert_eq!(echoed("trace-1234:abc/def+=".to_owned()).await, "trace-1234:abc/def+=");
        for unusable in ["x".repeat(16 * 1024), "a<script>".to_owned(), "tab\there".to_owned(), "é".to_owned()] {
            let answered = echoed(unusable.clone()).await;
            assert_ne!(answered, unusable);
            assert!(uuid::Uuid::parse_str(&answered).is_ok(), "a new id instead: {answered}");
        }
    }

    async fn every_answer_says_nosniff(backend) {
        let app = TestApp::spawn(backend).await;
        for path in ["/beers", "/v2/beers", "/beers/999999", "/v2/beers?abv_gt=x", "/openapi.json", "/health", "/nope"] {
            let response = app.get(path).await;
            assert_eq!(response.headers()["x-content-type-options"], "nosniff", "{path}");
        }
    }

    async fn thousands_of_bad_parameters_get_an_answer_of_bounded_size(backend) {
        let app = TestApp::spawn(backend).await;
        let query = vec!["a"; 20_000].join("&");
        let native = app.get(&format!("/beers?{query}")).await;
        assert_eq!(native.status(), 400);
        let text = native.text().await.unwrap();
        assert!(text.len() < 4_096, "{} bytes for a {}-byte query", text.len(), query.len());
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["errors"].as_array().unwrap().len(), 20);
        assert!(body["detail"].as_str().unwrap().contains("20000 problems; the first 20 are listed"), "{body}");

        // The Punk API ignores parameters it does not know; a known one with a bad value, many times over.
        let punk = app.get(&format!("/v2/beers?{}", vec!["abv_gt=x"; 4_000].join("&"))).await;
        assert_eq!(punk.status(), 400);
        let text = punk.text().await.unwrap();
        assert!(text.len() < 4_096, "{} bytes", text.len());
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["message"], "Invalid query params", "Punk's own message, which clients match");
        assert_eq!(body["data"].as_array().unwrap().len(), 20);
    }
}

/// A database that refuses new connections (55000 here; a rejected password during a secret rotation and a
/// database that does not exist are the same kind of refusal) is an outage: 503 with `Retry-After`, cached reads
/// served stale, and service back by itself once it accepts connections again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run `cargo test -- --include-ignored`"]
async fn a_database_that_refuses_connections_is_an_outage_not_a_server_error() {
    use sqlx::Connection;
    let app = TestApp::spawn(Backend::Postgres).await;
    let (status, created) = app.post_beer(&json!({"name": "Refused Lager", "abv": 5.0})).await;
    assert_eq!(status, 201, "{created}");
    let cached = format!("/beers/{}", created["id"]);
    for _ in 0..2 {
        assert_eq!(app.get(&cached).await.status(), 200);
    }
    let name = url::Url::parse(&app.database_url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    let mut admin = sqlx::PgConnection::connect(&postgres_admin_url()).await.unwrap();
    // New connections are refused with 55000; the pool's connections are ended, so the next use opens a new one.
    sqlx::query(&format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&name)
        .execute(&mut admin)
        .await
        .unwrap();

    let started = Instant::now();
    for page in 1.. {
        // A different query each time: none of them cached.
        let response = app.get(&format!("/beers?beer_name=refused&page={page}")).await;
        match response.status().as_u16() {
            503 => {
                assert_eq!(response.headers()["retry-after"], "5");
                break;
            }
            status => assert!(
                started.elapsed() < Duration::from_secs(5),
                "still {status} after {:?}: {}",
                started.elapsed(),
                response.text().await.unwrap()
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stale = app.get(&cached).await;
    assert_eq!(stale.status(), 200);
    assert_eq!(
        stale.headers()["cache-status"],
        "beer-catalog; hit; detail=stale-if-error"
    );

    sqlx::query(&format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"))
        .execute(&mut admin)
        .await
        .unwrap();
    let started = Instant::now();
    while app
        .get(&format!(
            "/beers?beer_name=refused&per_page={}",
            started.elapsed().as_millis() % 80 + 1
        ))
        .await
        .status()
        != 200
    {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not back within 5 s of accepting connections"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// SQL run behind the service's back, as an operator would.
async fn execute_raw(database_url: &str, statement: &str) {
    if database_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(database_url).await.unwrap();
        sqlx::raw_sql(statement).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(database_url).await.unwrap();
        sqlx::raw_sql(statement).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

backend_tests! {
    async fn made_up_image_names_are_answered_without_a_database_round_trip(backend) {
        let app = TestApp::spawn(backend).await;
        let (status, beer) = app.post_beer(&sample_beer("Labelled")).await;
        assert_eq!(status, 201, "{beer}");
        let id = beer["id"].as_i64().unwrap();
        let (status, stored) = app.put_image(id, "image/png", png(2, 2, 9)).await;
        assert_eq!(status, 200, "{stored}");
        let stored_url = stored["image_url"].as_str().unwrap().to_owned();
        // Wait until the service knows the image names at the version it confirms.
        let freshness = app.catalog.freshness();
        let started = Instant::now();
        while app.catalog.known_images().version().is_none()
            || app.catalog.known_images().version() != freshness.current_version()
        {
            assert!(started.elapsed() < Duration::from_secs(5), "the image names were never read");
            // A lookup after the version moved is what asks for the names again.
            let _ = app.get(&format!("/images/{}.png", "0".repeat(64))).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Take the images table away: from now on, any lookup that reaches the database fails.
        execute_raw(&app.database_url, "ALTER TABLE images RENAME TO images_hidden").await;
        for n in 0..500u32 {
            let name = format!("{:064x}", u128::from(n) * 0x9e37_79b9_7f4a_7c15 + 1);
            for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
                let response = app.client.request(method.clone(), app.url(&format!("/images/{name}.png"))).send().await.unwrap();
                assert_eq!(response.status(), 404, "{method} {name}");
            }
        }
        // The stored image (never fetched, so not in the response cache) still goes to the database.
        let response = app.client.get(&stored_url).send().await.unwrap();
        assert!(response.status().is_server_error(), "{}", response.status());
        execute_raw(&app.database_url, "ALTER TABLE images_hidden RENAME TO images").await;
        let response = app.client.get(&stored_url).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
}
