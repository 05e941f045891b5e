//! Compressed answers: the coding chosen from `Accept-Encoding` (q-values, `identity;q=0`, unknown codings, never a
//! 406), a strong `ETag` per coding with 304s, HEAD and `Range` alike, compressed variants kept and rebuilt once
//! evicted, and what is never compressed (images, tiny bodies). Independent of the backend: run on SQLite.

use std::io::Read as _;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, ETAG, IF_NONE_MATCH, RANGE, VARY};
use serde_json::Value;

use crate::helpers::{Backend, TestApp, header, sample_beer};
use crate::images::png;

/// Decodes a body in `coding` (`None`: identity).
fn decoded(coding: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        None => out.extend_from_slice(body),
        Some("br") => {
            brotli::Decompressor::new(body, 4096).read_to_end(&mut out).unwrap();
        }
        Some("gzip") => {
            flate2::read::GzDecoder::new(body).read_to_end(&mut out).unwrap();
        }
        Some(other) => panic!("unexpected coding {other}"),
    }
    out
}

struct Answer {
    status: u16,
    coding: Option<String>,
    etag: Option<String>,
    /// `Vary` names `Accept-Encoding`.
    varies: bool,
    cache_status: Option<String>,
    content_length: Option<String>,
    body: Vec<u8>,
}

async fn fetch(app: &TestApp, method: reqwest::Method, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = app.client.request(method, app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status().as_u16(),
        coding: header(&response, CONTENT_ENCODING.as_str()),
        etag: header(&response, ETAG.as_str()),
        varies: response
            .headers()
            .get_all(VARY)
            .iter()
            .any(|v| v.to_str().unwrap().to_ascii_lowercase().contains("accept-encoding")),
        cache_status: header(&response, "cache-status"),
        content_length: header(&response, CONTENT_LENGTH.as_str()),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

async fn get(app: &TestApp, path: &str, accept_encoding: &str) -> Answer {
    fetch(
        app,
        reqwest::Method::GET,
        path,
        &[(ACCEPT_ENCODING.as_str(), accept_encoding)],
    )
    .await
}

/// An app with `beers` beers whose descriptions make every list and beer well over the compression floor.
async fn app_with_long_beers(args: &[&str], beers: usize) -> TestApp {
    let app = TestApp::spawn_with(Backend::Sqlite, args, |_| {}).await;
    for n in 1..=beers {
        let mut beer = sample_beer(&format!("Beer {n}"));
        beer["description"] = Value::String(format!("Beer {n}: ") + &"a long, repetitive description. ".repeat(100));
        assert_eq!(app.post_beer(&beer).await.0, 201);
    }
    app
}

/// GETs `path` until it comes from the response cache: the catalog version read, nothing left to clear it.
async fn until_cached(app: &TestApp, path: &str) {
    let started = Instant::now();
    while app
        .get(path)
        .await
        .headers()
        .get("cache-status")
        .and_then(|v| v.to_str().ok())
        != Some("beer-catalog; hit")
    {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path} never came from the cache"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coding_follows_accept_encoding_and_never_refuses() {
    let app = app_with_long_beers(&[], 5).await;
    let identity = fetch(&app, reqwest::Method::GET, "/v2/beers", &[]).await;
    assert_eq!(
        (identity.status, identity.coding.as_deref()),
        (200, None),
        "no header: identity"
    );
    assert!(identity.varies, "Vary: Accept-Encoding");
    assert!(identity.body.len() > 10_000);

    let cases: [(&str, Option<&str>); 13] = [
        ("gzip, deflate, br", Some("br")),
        ("br;q=0.5, gzip", Some("gzip")),
        ("GZIP;Q=0.8", Some("gzip")),
        ("x-gzip", Some("gzip")),
        ("*", Some("br")),
        ("*;q=0.5, br;q=0", Some("gzip")),
        ("identity;q=1, br;q=0.5", None),
        ("identity;q=0, gzip;q=0.1", Some("gzip")),
        // Nothing acceptable that the service makes: identity anyway, never a 406.
        ("identity;q=0", None),
        ("*;q=0", None),
        ("zstd, compress, unknown-coding", None),
        ("br;q=high, gzip;q=2", None),
        ("", None),
    ];
    for (accept_encoding, expected) in cases {
        let answer = get(&app, "/v2/beers", accept_encoding).await;
        assert_eq!(answer.status, 200, "{accept_encoding}");
        assert_eq!(answer.coding.as_deref(), expected, "{accept_encoding}");
        assert!(answer.varies, "{accept_encoding}");
        assert_eq!(decoded(expected, &answer.body), identity.body, "{accept_encoding}");
        if expected.is_some() {
            assert!(
                answer.body.len() * 4 < identity.body.len(),
                "{accept_encoding}: {} bytes",
                answer.body.len()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_coding_has_its_own_strong_etag_and_revalidates() {
    let app = app_with_long_beers(&[], 3).await;
    for path in ["/v2/beers", "/beers/1", "/openapi.json"] {
        let identity = get(&app, path, "identity").await;
        let br = get(&app, path, "br").await;
        let gzip = get(&app, path, "gzip").await;
        let tags = [&identity.etag, &br.etag, &gzip.etag].map(|tag| tag.clone().unwrap());
        assert!(
            tags.iter().all(|tag| tag.starts_with('"')),
            "{path}: strong tags {tags:?}"
        );
        assert!(
            tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2],
            "{path}: {tags:?}"
        );

        let revalidated = fetch(
            &app,
            reqwest::Method::GET,
            path,
            &[("accept-encoding", "br"), ("if-none-match", &tags[1])],
        )
        .await;
        assert_eq!(revalidated.status, 304, "{path}");
        assert_eq!(revalidated.etag.as_deref(), Some(tags[1].as_str()), "{path}");
        assert!(revalidated.varies, "{path}");
        assert!(revalidated.body.is_empty());
        // The brotli tag does not validate the gzip answer: the client gets the gzip bytes.
        let other = fetch(
            &app,
            reqwest::Method::GET,
            path,
            &[("accept-encoding", "gzip"), ("if-none-match", &tags[1])],
        )
        .await;
        assert_eq!((other.status, other.coding.as_deref()), (200, Some("gzip")), "{path}");
        assert_eq!(decoded(Some("gzip"), &other.body), identity.body, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_and_range_requests_see_the_same_representation() {
    let app = app_with_long_beers(&[], 3).await;
    let get = get(&app, "/v2/beers", "br").await;
    let head = fetch(&app, reqwest::Method::HEAD, "/v2/beers", &[("accept-encoding", "br")]).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.coding.as_deref(), Some("br"));
    assert_eq!(head.etag, get.etag);
    assert!(head.varies);
    assert_eq!(head.content_length, Some(get.body.len().to_string()));
    assert!(head.body.is_empty());
    let head = fetch(
        &app,
        reqwest::Method::HEAD,
        "/v2/beers",
        &[
            ("accept-encoding", "br"),
            ("if-none-match", get.etag.as_deref().unwrap()),
        ],
    )
    .await;
    assert_eq!(head.status, 304);

    // Ranges are not served (no `Accept-Ranges`): a range request gets the whole representation, never a slice of
    // compressed bytes.
    let ranged = fetch(
        &app,
        reqwest::Method::GET,
        "/v2/beers",
        &[("accept-encoding", "br"), (RANGE.as_str(), "bytes=0-9")],
    )
    .await;
    assert_eq!((ranged.status, ranged.coding.as_deref()), (200, Some("br")));
    assert_eq!(ranged.body, get.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_assets_and_the_openapi_document_are_compressed() {
    let app = app_with_long_beers(&[], 3).await;
    let page = get(&app, "/", "br").await;
    assert_eq!((page.status, page.coding.as_deref()), (200, Some("br")));
    let html = String::from_utf8(decoded(Some("br"), &page.body)).unwrap();
    let asset_paths: Vec<&str> = html.split('"').filter(|part| part.starts_with("/assets/")).collect();
    assert!(
        asset_paths.iter().any(|p| p.ends_with(".css")) && asset_paths.iter().any(|p| p.ends_with(".js")),
        "{asset_paths:?}"
    );
    for path in ["/docs", "/catalog/1", "/openapi.json"]
        .into_iter()
        .chain(asset_paths.iter().copied())
    {
        let identity = get(&app, path, "identity").await;
        assert_eq!((identity.status, identity.coding.as_deref()), (200, None), "{path}");
        if identity.body.len() < 1024 {
            // The icon: too small to be worth it.
            assert_eq!(get(&app, path, "br").await.coding, None, "{path}");
            continue;
        }
        for coding in ["br", "gzip"] {
            let answer = get(&app, path, coding).await;
            assert_eq!(answer.coding.as_deref(), Some(coding), "{path}");
            assert!(answer.varies, "{path}");
            assert_eq!(decoded(Some(coding), &answer.body), identity.body, "{path} in {coding}");
            assert_ne!(answer.etag, identity.etag, "{path}");
            let etag = answer.etag.unwrap();
            let again = fetch(
                &app,
                reqwest::Method::GET,
                path,
                &[("accept-encoding", coding), (IF_NONE_MATCH.as_str(), &etag)],
            )
            .await;
            assert_eq!(again.status, 304, "{path} in {coding}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_and_tiny_bodies_are_never_compressed() {
    let app = app_with_long_beers(&[], 1).await;
    // The content type alone decides: an image is never compressed, whatever its size.
    let (status, beer) = app.put_image(1, "image/png", png(64, 64, 0)).await;
    assert_eq!(status, 200, "{beer}");
    let image_path = beer["image_url"]
        .as_str()
        .unwrap()
        .split_once("/images/")
        .map(|(_, f)| format!("/images/{f}"))
        .unwrap();
    for path in [image_path.as_str(), "/health", "/v2/beers?beer_name=nothing-like-this"] {
        let answer = get(&app, path, "br, gzip").await;
        assert_eq!((answer.status, answer.coding.as_deref()), (200, None), "{path}");
        assert!(!answer.varies, "{path}: the answer does not depend on Accept-Encoding");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_variant_is_kept_and_rebuilt_once_evicted() {
    // 64 KiB holds a few of the ~4 KB beers and their variants, not 40 of them.
    let app = app_with_long_beers(&["--cache-max-bytes", "65536"], 40).await;
    until_cached(&app, "/v2/beers/1").await;
    let first = get(&app, "/v2/beers/1", "br").await;
    assert_eq!(first.coding.as_deref(), Some("br"));
    assert_eq!(
        first.cache_status.as_deref(),
        Some("beer-catalog; hit, beer-catalog-encoded; fwd=miss; stored")
    );
    let kept = get(&app, "/v2/beers/1", "br").await;
    assert_eq!(
        kept.cache_status.as_deref(),
        Some("beer-catalog; hit, beer-catalog-encoded; hit")
    );
    assert_eq!((kept.etag.as_ref(), &kept.body), (first.etag.as_ref(), &first.body));

    // Every other beer in both codings pushes it out.
    for round in 0..3 {
        for id in 2..=40 {
            for coding in ["br", "gzip"] {
                let answer = get(&app, &format!("/v2/beers/{id}"), coding).await;
                assert_eq!(answer.status, 200, "round {round}, beer {id}");
            }
        }
    }
    let rebuilt = get(&app, "/v2/beers/1", "br").await;
    let status = rebuilt.cache_status.unwrap_or_default();
    assert!(
        status.ends_with("beer-catalog-encoded; fwd=miss; stored"),
        "evicted and made again: {status}"
    );
    assert_eq!(rebuilt.etag, first.etag, "the same bytes, the same validator");
    assert_eq!(decoded(Some("br"), &rebuilt.body), decoded(Some("br"), &first.body));
}
