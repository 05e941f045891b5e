//! Rate limiting as the Punk API did it, through the real server (a real TCP peer address). The limiter sits in
//! front of storage and never touches it, so these run on SQLite only.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, header, sample_beer};

fn number(response: &reqwest::Response, name: &str) -> u64 {
    header(response, name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .parse()
        .unwrap()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn limited_app(args: &[&str], window: Duration) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, args, |config| config.rate_limit.window = window).await
}

async fn get_from(app: &TestApp, path: &str, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(chain) = forwarded_for {
        request = request.header("x-forwarded-for", chain);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn every_answer_carries_the_headers_and_the_429s_are_punk_and_problem_shaped() {
    let app = limited_app(&["--rate-limit-per-hour", "3"], Duration::from_secs(3600)).await;
    let first = app.get("/v2/beers").await;
    assert_eq!(first.status(), 200);
    assert_eq!(number(&first, "x-ratelimit-limit"), 3);
    assert_eq!(number(&first, "x-ratelimit-remaining"), 2);
    let reset = number(&first, "x-ratelimit-reset");
    assert!(
        (unix_now() + 3590..=unix_now() + 3601).contains(&reset),
        "reset {reset} is the window's end"
    );

    // Every limited answer has them, errors included, and the native API counts against the same allowance.
    let not_found = app.get("/v2/beers/9999").await;
    assert_eq!(
        (not_found.status().as_u16(), number(&not_found, "x-ratelimit-remaining")),
        (404, 1)
    );
    let native = app.get("/beers").await;
    assert_eq!(
        (native.status().as_u16(), number(&native, "x-ratelimit-remaining")),
        (200, 0)
    );

    let over = app.get("/v2/beers?page=2").await;
    assert_eq!(over.status(), 429);
    assert_eq!(number(&over, "x-ratelimit-remaining"), 0);
    assert_eq!(number(&over, "x-ratelimit-reset"), reset);
    let retry_after = number(&over, "retry-after");
    assert!(
        (3590..=3600).contains(&retry_after),
        "Retry-After {retry_after}: the seconds until the window ends"
    );
    assert_eq!(header(&over, "content-type").as_deref(), Some("application/json"));
    assert_eq!(
        over.json::<Value>().await.unwrap(),
        json!({"statusCode": 429, "error": "Too Many Requests",
               "message": "You have reached your limit on this ip address please wait an hour"})
    );

    let over = app.get("/beers/1").await;
    assert_eq!(over.status(), 429);
    assert_eq!(
        header(&over, "content-type").as_deref(),
        Some("application/problem+json")
    );
    assert!(over.headers().contains_key("retry-after"));
    let problem: Value = over.json().await.unwrap();
    assert_eq!(
        (problem["status"].as_u64(), problem["title"].as_str()),
        (Some(429), Some("Too Many Requests"))
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("3 requests per hour"),
        "{problem}"
    );
    // Writes are limited too, before anything is written.
    let response = app
        .client
        .post(app.url("/beers"))
        .json(&sample_beer("Late"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(app.catalog.reads().count(&Default::default()).await.unwrap(), 0);
}

#[tokio::test]
async fn health_checks_and_images_are_never_limited_nor_counted() {
    let app = limited_app(&["--rate-limit-per-hour", "1"], Duration::from_secs(3600)).await;
    for _ in 0..5 {
        for path in ["/health", "/ready", "/health/"] {
            let response = app.get(path).await;
            assert_eq!(response.status(), 200, "{path}");
            assert!(!response.headers().contains_key("x-ratelimit-limit"), "{path}");
        }
        // Label images are static and content-addressed: never counted (a 404 here, but not a 429).
        for path in [format!("/images/{}.png", "0".repeat(64))] {
            let response = app.get(&path).await;
            assert_eq!(response.status(), 404, "{path}");
            assert!(!response.headers().contains_key("x-ratelimit-limit"), "{path}");
        }
    }
    let response = app.get("/v2/beers").await;
    assert_eq!(
        (response.status().as_u16(), number(&response, "x-ratelimit-remaining")),
        (200, 0)
    );
    assert_eq!(app.get("/v2/beers").await.status(), 429);
    assert_eq!(
        app.get("/ready").await.status(),
        200,
        "still healthy while the client is limited"
    );
}

#[tokio::test]
async fn a_new_window_restores_the_allowance() {
    let window = Duration::from_secs(3);
    let app = limited_app(&["--rate-limit-per-hour", "1"], window).await;
    let first = app.get("/v2/beers").await;
    assert_eq!(first.status(), 200);
    let reset = number(&first, "x-ratelimit-reset");
    let blocked = app.get("/v2/beers").await;
    assert_eq!(blocked.status(), 429);
    assert_eq!(number(&blocked, "x-ratelimit-reset"), reset);
    let retry_after = number(&blocked, "retry-after");
    assert!((1..=3).contains(&retry_after), "{retry_after}");

    tokio::time::sleep(Duration::from_secs(retry_after) + Duration::from_millis(300)).await;
    let again = app.get("/v2/beers").await;
    assert_eq!(again.status(), 200, "the window has ended");
    assert_eq!(number(&again, "x-ratelimit-remaining"), 0);
    let new_reset = number(&again, "x-ratelimit-reset");
    assert!(
        new_reset >= reset + 3 && new_reset <= reset + 4,
        "{reset} -> {new_reset}"
    );
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    // Untrusted (the default): the header is the client's own claim, so every request counts against the peer.
    let app = limited_app(&["--rate-limit-per-hour", "2"], Duration::from_secs(3600)).await;
    for (i, claimed) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"].iter().enumerate() {
        let response = get_from(&app, "/v2/beers", Some(claimed)).await;
        assert_eq!(response.status(), if i < 2 { 200 } else { 429 }, "{claimed}");
    }

    // Behind a trusted proxy (here the test client's own address): the right-most untrusted entry is the client.
    let app = limited_app(
        &[
            "--rate-limit-per-hour",
            "2",
            "--trusted-proxies",
            "127.0.0.0/8, 10.0.0.0/16",
        ],
        Duration::from_secs(3600),
    )
    .await;
    for _ in 0..2 {
        assert_eq!(get_from(&app, "/v2/beers", Some("203.0.113.7")).await.status(), 200);
    }
    assert_eq!(get_from(&app, "/v2/beers", Some("203.0.113.7")).await.status(), 429);
    // Another client behind the same proxy has its own allowance...
    let other = get_from(&app, "/v2/beers", Some("203.0.113.8")).await;
    assert_eq!(
        (other.status().as_u16(), number(&other, "x-ratelimit-remaining")),
        (200, 1)
    );
    // ...and a forged left-most entry does not help the limited one: the proxy appended the real address.
    assert_eq!(
        get_from(&app, "/v2/beers", Some("192.0.2.1, 203.0.113.7"))
            .await
            .status(),
        429
    );
    // Internal hops (another trusted proxy) are skipped.
    assert_eq!(
        get_from(&app, "/v2/beers", Some("203.0.113.7, 10.0.4.2"))
            .await
            .status(),
        429
    );
    // No header: the proxy itself is the client.
    assert_eq!(get_from(&app, "/v2/beers", None).await.status(), 200);
}

#[tokio::test]
async fn cors_exposes_the_headers_and_zero_disables_the_limit() {
    let app = limited_app(&["--rate-limit-per-hour", "5"], Duration::from_secs(3600)).await;
    let response = app
        .client
        .get(app.url("/v2/beers"))
        .header("origin", "https://tutorial.example")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "access-control-allow-origin").as_deref(), Some("*"));
    let exposed = header(&response, "access-control-expose-headers")
        .unwrap()
        .to_lowercase();
    for name in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "retry-after",
        "x-total-count",
        "link",
    ] {
        assert!(exposed.contains(name), "{name} not in {exposed}");
    }

    let app = limited_app(&["--rate-limit-per-hour", "0"], Duration::from_secs(3600)).await;
    for _ in 0..20 {
        let response = app.get("/v2/beers").await;
        assert_eq!(response.status(), 200);
        assert!(!response.headers().contains_key("x-ratelimit-limit"));
    }
}

/// The same error carries the same headers as JSON and as a browser's page: `no-store` (a CDN or proxy must not
/// keep a 429 or a 404), the rate limit's three, CORS and the request id. 429s and HTML pages once had none of them.
#[tokio::test]
async fn every_error_answer_json_or_html_carries_no_store_the_limit_and_cors() {
    const BROWSER: &str = "text/html,application/xhtml+xml,*/*;q=0.8";
    let app = limited_app(&["--rate-limit-per-hour", "4"], Duration::from_secs(3600)).await;
    let send = |method: reqwest::Method, path: &str, accept: Option<&str>| {
        let mut request = app
            .client
            .request(method, app.url(path))
            .header("origin", "https://tutorial.example");
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        request.send()
    };
    let answers = [
        (
            send(reqwest::Method::GET, "/beers/999", None).await.unwrap(),
            404,
            "application/problem+json",
        ),
        (
            send(reqwest::Method::GET, "/beers/999", Some(BROWSER)).await.unwrap(),
            404,
            "text/html; charset=utf-8",
        ),
        (
            send(reqwest::Method::HEAD, "/beers/999", None).await.unwrap(),
            404,
            "application/problem+json",
        ),
        (
            send(reqwest::Method::GET, "/v2/beers/999", Some(BROWSER))
                .await
                .unwrap(),
            404,
            "text/html; charset=utf-8",
        ),
        (
            send(reqwest::Method::GET, "/beers", None).await.unwrap(),
            429,
            "application/problem+json",
        ),
        (
            send(reqwest::Method::GET, "/v2/beers", None).await.unwrap(),
            429,
            "application/json",
        ),
        (
            send(reqwest::Method::GET, "/", Some(BROWSER)).await.unwrap(),
            429,
            "text/html; charset=utf-8",
        ),
    ];
    for (i, (response, status, content_type)) in answers.iter().enumerate() {
        assert_eq!(
            (response.status().as_u16(), header(response, "content-type").as_deref()),
            (*status, Some(*content_type)),
            "#{i}"
        );
        assert_eq!(header(response, "cache-control").as_deref(), Some("no-store"), "#{i}");
        assert_eq!(number(response, "x-ratelimit-limit"), 4, "#{i}");
        assert!(
            header(response, "x-ratelimit-reset").is_some() && header(response, "x-request-id").is_some(),
            "#{i}"
        );
        assert_eq!(
            header(response, "access-control-allow-origin").as_deref(),
            Some("*"),
            "#{i}"
        );
        assert!(
            header(response, "access-control-expose-headers").is_some_and(|h| h.contains("x-ratelimit-remaining")),
            "#{i}"
        );
        if *status == 429 {
            assert!(
                (3590..=3600).contains(&number(response, "retry-after")),
                "#{i}: the window's, not a page's 5"
            );
        }
    }
    let page = answers[6]
        .0
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    // The page varies by `Accept` (JSON or HTML), not by `Origin`: every origin gets the same answer (`*`).
    assert!(
        page.iter().any(|v| v == "Accept") && !page.iter().any(|v| v.contains("origin")),
        "{page:?}"
    );
}
