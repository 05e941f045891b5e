//! Label images: the Punk dataset's labels imported and served, uploads judged by content and limits, and a 413
//! the client can read.

use std::collections::HashSet;
use std::path::PathBuf;

use beer_catalog::cli::AppEnv;
use beer_catalog::startup::Application;
use beer_catalog::storage;
use reqwest::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{TestApp, TestDatabase, beer_catalog, config_for, punk_dataset, punk_dataset_path, sample_beer};

/// The label images beside the dataset (`../shared/data/punkapi/images`).
fn punk_images_dir() -> PathBuf {
    let dir = punk_dataset_path().parent().unwrap().join("images");
    assert!(
        dir.is_dir(),
        "{} is missing: this test needs the Punk label images",
        dir.display()
    );
    dir
}

/// A real PNG of `width` x `height`, its pixels noise seeded by `seed` (different seeds, different content and
/// hash; noise, so the file does not compress below its pixel count).
pub(crate) fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let mut state = u32::from(seed) + 1;
    let pixels: Vec<u8> = (0..width * height * 4)
        .map(|_| {
            // xorshift32
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

/// A small, valid PNG whose header claims `width` x `height` (with a correct CRC): what a decompression bomb
/// looks like to a server that reads headers.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(1, 1, 0);
    // Signature (8), IHDR length (4), "IHDR" (4), then width and height; the CRC covers type and data.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32fast::hash(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// A 1 x 1 lossless WebP.
const WEBP_1X1: [u8; 34] = [
    0x52, 0x49, 0x46, 0x46, 0x1a, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38, 0x4c, 0x0d, 0x00, 0x00,
    0x00, 0x2f, 0x00, 0x00, 0x00, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0x00,
];

impl TestApp {
    /// Creates beers 1..=count.
    async fn with_beers(self, count: usize) -> Self {
        for n in 1..=count {
            let (status, beer) = self.post_beer(&sample_beer(&format!("Beer {n}"))).await;
            assert_eq!((status, beer["id"].as_u64()), (201, Some(n as u64)), "{beer}");
        }
        self
    }

    pub async fn put_image(&self, id: i64, content_type: &str, bytes: Vec<u8>) -> (u16, Value) {
        let response = self
            .client
            .put(self.url(&format!("/beers/{id}/image")))
            .header(CONTENT_TYPE, content_type)
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn delete_image(&self, id: i64) -> (u16, Value) {
        let response = self
            .client
            .delete(self.url(&format!("/beers/{id}/image")))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GETs an absolute image URL: status, content type and bytes.
    async fn fetch_image(&self, url: &str) -> (u16, String, Vec<u8>) {
        let response = self.client.get(url).send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, content_type, response.bytes().await.unwrap().to_vec())
    }
}

fn image_url(beer: &Value) -> &str {
    beer["image_url"]
        .as_str()
        .unwrap_or_else(|| panic!("no image_url: {beer}"))
}

/// Sends a request with a `body_len`-byte body in 16 KiB pieces a few milliseconds apart, as a client on a slower
/// link than loopback does, reading nothing until all is sent; then reads the whole answer. An error means the
/// server cut the connection under the client.
async fn paced_upload(address: &str, head: &str, body_len: usize) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address.trim_start_matches("http://")).await?;
    stream
        .write_all(format!("{head}\r\nContent-Length: {body_len}\r\nConnection: close\r\n\r\n").as_bytes())
        .await?;
    let piece = vec![b'x'; 16 * 1024];
    let mut sent = 0;
    while sent < body_len {
        let n = piece.len().min(body_len - sent);
        stream.write_all(&piece[..n]).await?;
        sent += n;
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// GETs `path` on `app` until its `image_url` satisfies `expected`, within the cache's freshness bound (1 s) of
/// `written_at`; the last answer must have come from the cache at least once before (`was_cached`).
async fn image_url_within_bound(
    app: &TestApp,
    path: &str,
    written_at: std::time::Instant,
    expected: impl Fn(&Value) -> bool,
) {
    loop {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 200, "{body}");
        if expected(&body[0]["image_url"]) {
            return;
        }
        assert!(
            written_at.elapsed() < std::time::Duration::from_secs(1),
            "{path} still shows image_url {} {:?} after the image write",
            body[0]["image_url"],
            written_at.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Repeats GET `path` until an answer comes from the response cache.
async fn until_cached(app: &TestApp, path: &str) {
    let started = std::time::Instant::now();
    while app
        .get(path)
        .await
        .headers()
        .get("cache-status")
        .and_then(|v| v.to_str().ok())
        != Some("beer-catalog; hit")
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{path} never cached"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

backend_tests! {
    // An image write updates the beer's row, which moves the catalog version: another instance's cached answers
    // show the new `image_url` within the bound, as for any other write.
    async fn an_image_write_shows_in_another_instances_cached_answers_within_the_bound(backend) {
        let database = std::sync::Arc::new(TestDatabase::create(backend).await);
        let writer = TestApp::spawn_on(database.clone(), &[], |_| {}).await.with_beers(1).await;
        let reader = TestApp::spawn_on(database, &[], |_| {}).await;
        until_cached(&reader, "/v2/beers/1").await;
        let stored_url = |url: &Value| url.as_str().is_some_and(|url| url.contains("/images/") && url.ends_with(".png"));
        assert!(!stored_url(&reader.get_json("/v2/beers/1").await.1[0]["image_url"]));

        let (status, beer) = writer.put_image(1, "image/png", png(3, 2, 9)).await;
        assert_eq!(status, 200, "{beer}");
        let file = beer["image_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let written_at = std::time::Instant::now();
        image_url_within_bound(&reader, "/v2/beers/1", written_at, |url| {
            url.as_str().is_some_and(|url| url == format!("{}/images/{file}", reader.address))
        })
        .await;
        until_cached(&reader, "/v2/beers/1").await;

        assert_eq!(writer.delete_image(1).await.0, 204);
        let written_at = std::time::Instant::now();
        image_url_within_bound(&reader, "/v2/beers/1", written_at, Value::is_null).await;
    }

    #[ignore = "needs the Punk dataset at ../shared/data/punkapi: run with --include-ignored (.ci/run does)"]
    async fn every_punk_label_is_imported_and_served_byte_for_byte(backend) {
        let (dataset, images) = (punk_dataset(), punk_images_dir());
        let app = TestApp::spawn(backend).await;
        let output = beer_catalog(
            &app.database_url,
            &["import", punk_dataset_path().to_str().unwrap(), "--images", images.to_str().unwrap()],
        );
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{output:?}");
        // 186 files, but two of them (185.png and 194.png) hold the same bytes: 185 images.
        let distinct_contents: HashSet<Vec<u8>> = dataset
            .iter()
            .filter_map(|beer| beer["image_url"].as_str())
            .map(|url| std::fs::read(images.join(url.rsplit('/').next().unwrap())).unwrap())
            .collect();
        let summary = format!("images: 264 records got one of {} distinct images\n", distinct_contents.len());
        assert!(report.starts_with(&format!("imported 325, skipped 0\n{summary}")), "{report}");
        assert!(!report.contains("image:"), "every referenced file is there: {report}");

        let served = app.all_pages("/v2/beers", "").await;
        assert_eq!(served.len(), 325);
        let prefix = format!("{}/images/", app.address);
        let mut distinct_urls = HashSet::new();
        for (source, beer) in dataset.iter().zip(&served) {
            assert_eq!(source["id"], beer["id"]);
            let Some(source_url) = source["image_url"].as_str() else {
                assert_eq!(beer["image_url"], Value::Null, "beer {} has no image in the dataset", beer["id"]);
                continue;
            };
            let url = image_url(beer);
            assert!(url.starts_with(&prefix) && url.ends_with(".png"), "beer {}: {url}", beer["id"]);
            let file = images.join(source_url.rsplit('/').next().unwrap());
            let (status, content_type, bytes) = app.fetch_image(url).await;
            assert_eq!((status, content_type.as_str()), (200, "image/png"), "beer {}: {url}", beer["id"]);
            assert!(bytes == std::fs::read(&file).unwrap(), "beer {}: {url} differs from {}", beer["id"], file.display());
            let etag = format!("\"{}\"", url.trim_start_matches(&prefix).trim_end_matches(".png"));
            let revalidated = app.client.get(url).header(IF_NONE_MATCH, &etag).send().await.unwrap();
            assert_eq!(revalidated.status(), 304, "beer {}: {url}", beer["id"]);
            distinct_urls.insert(url.to_owned());
        }
        assert_eq!(distinct_urls.len(), distinct_contents.len(), "one stored image and URL per content (keg.png serves 79 beers)");

        // The native API links the same image.
        let (_, native) = app.get_json("/beers/2").await;
        assert_eq!(native["image_url"], served[1]["image_url"]);
        // A second import with images leaves the catalog as it was.
        let output = beer_catalog(
            &app.database_url,
            &["import", punk_dataset_path().to_str().unwrap(), "--images", images.to_str().unwrap()],
        );
        assert!(output.status.success(), "{output:?}");
        let (_, again) = app.get_json("/v2/beers/2").await;
        assert_eq!(again[0]["image_url"], served[1]["image_url"]);
    }

    async fn images_carry_cache_headers_and_revalidate(backend) {
        let app = TestApp::spawn(backend).await.with_beers(1).await;
        let bytes = png(3, 2, 7);
        let (status, beer) = app.put_image(1, "image/png", bytes.clone()).await;
        assert_eq!(status, 200, "{beer}");
        let url = image_url(&beer).to_owned();
        let sha256 = url.rsplit('/').next().unwrap().trim_end_matches(".png").to_owned();

        let response = app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert_eq!(headers[CONTENT_TYPE], "image/png");
        assert_eq!(headers[CONTENT_LENGTH], bytes.len().to_string().as_str());
        assert_eq!(headers[ETAG], format!("\"{sha256}\"").as_str());
        assert_eq!(headers[CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(response.bytes().await.unwrap().to_vec(), bytes);

        for tag in [format!("\"{sha256}\""), format!("W/\"{sha256}\""), format!("\"other\", \"{sha256}\""), "*".into()] {
            let response = app.client.get(&url).header(IF_NONE_MATCH, &tag).send().await.unwrap();
            assert_eq!(response.status(), 304, "{tag}");
            assert_eq!(response.headers()[ETAG], format!("\"{sha256}\"").as_str());
            assert_eq!(response.headers()[CACHE_CONTROL], "public, max-age=31536000, immutable");
        }
        let stale = app.client.get(&url).header(IF_NONE_MATCH, "\"something-else\"").send().await.unwrap();
        assert_eq!(stale.status(), 200);

        // Served from the response cache from now on, with the same validator and caching headers.
        let cached = app.client.get(&url).send().await.unwrap();
        assert_eq!(cached.headers()["cache-status"], "beer-catalog; hit");
        assert_eq!(cached.headers()[ETAG], format!("\"{sha256}\"").as_str());
        assert_eq!(cached.headers()[CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert_eq!(cached.headers()[CONTENT_TYPE], "image/png");
        assert_eq!(cached.bytes().await.unwrap().to_vec(), bytes);
        let revalidated = app.client.get(&url).header(IF_NONE_MATCH, format!("\"{sha256}\"")).send().await.unwrap();
        assert_eq!(revalidated.status(), 304);
        assert_eq!(revalidated.headers()["cache-status"], "beer-catalog; hit");

        let head = app.client.head(&url).send().await.unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(head.headers()[CONTENT_TYPE], "image/png");
        assert_eq!(head.headers()[CONTENT_LENGTH], bytes.len().to_string().as_str());
        assert_eq!(head.headers()[ETAG], format!("\"{sha256}\"").as_str());
        assert!(head.bytes().await.unwrap().is_empty());
        let head = app.client.head(&url).header(IF_NONE_MATCH, format!("\"{sha256}\"")).send().await.unwrap();
        assert_eq!(head.status(), 304);

        // Unknown, malformed, or the right hash with the wrong extension: JSON 404s.
        let unknown = format!("/images/{}.png", "0".repeat(64));
        for path in [unknown.as_str(), "/images/keg.png", &format!("/images/{sha256}.jpg"), &format!("/images/{sha256}")] {
            let response = app.get(path).await;
            assert_eq!(response.status(), 404, "{path}");
            assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json", "{path}");
            let body: Value = response.json().await.unwrap();
            assert!(body["detail"].as_str().unwrap().starts_with("no image"), "{path}: {body}");
            assert_eq!(app.client.head(app.url(path)).send().await.unwrap().status(), 404, "{path}");
        }
    }

    // A HEAD that reaches the handler first (a link checker, a CDN's probe) must not leave an empty answer in the
    // response cache for the GETs after it, and says the image's real length.
    async fn a_head_before_any_get_neither_empties_the_image_nor_lies_about_its_length(backend) {
        let app = TestApp::spawn(backend).await.with_beers(1).await;
        let bytes = png(5, 4, 9);
        let (status, beer) = app.put_image(1, "image/png", bytes.clone()).await;
        assert_eq!(status, 200, "{beer}");
        let url = image_url(&beer).to_owned();
        for _ in 0..2 {
            let head = app.client.head(&url).send().await.unwrap();
            assert_eq!(head.status(), 200);
            assert_eq!(head.headers()[CONTENT_LENGTH], bytes.len().to_string().as_str());
            assert!(head.bytes().await.unwrap().is_empty());
        }
        for _ in 0..2 {
            let get = app.client.get(&url).send().await.unwrap();
            assert_eq!(get.status(), 200);
            assert_eq!(get.headers()[CONTENT_LENGTH], bytes.len().to_string().as_str());
            assert_eq!(get.bytes().await.unwrap().to_vec(), bytes);
        }
    }

    async fn uploads_are_judged_by_content_and_bounded(backend) {
        let app = TestApp::spawn_with(backend, &["--image-max-bytes", "4096", "--image-max-dimension", "64"], |_| {})
            .await
            .with_beers(3)
            .await;

        // A PNG declared as JPEG is taken as the PNG it is.
        let bytes = png(2, 1, 1);
        let (status, beer) = app.put_image(1, "image/jpeg", bytes.clone()).await;
        assert_eq!(status, 200, "{beer}");
        assert_eq!(beer["id"], 1);
        let url = image_url(&beer).to_owned();
        assert!(url.starts_with(&format!("{}/images/", app.address)) && url.ends_with(".png"), "{url}");
        assert_eq!(app.fetch_image(&url).await, (200, "image/png".into(), bytes));

        // WebP is accepted; its URL and type say so.
        let (status, beer) = app.put_image(2, "application/octet-stream", WEBP_1X1.to_vec()).await;
        assert_eq!(status, 200, "{beer}");
        let webp_url = image_url(&beer).to_owned();
        assert!(webp_url.ends_with(".webp"), "{webp_url}");
        assert_eq!(app.fetch_image(&webp_url).await, (200, "image/webp".into(), WEBP_1X1.to_vec()));

        // Text declared as PNG: 415 naming what is accepted.
        let (status, problem) = app.put_image(3, "image/png", b"just some text, honestly".to_vec()).await;
        assert_eq!(status, 415, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("PNG, JPEG or WebP"), "{problem}");
        // A GIF is named as what it is.
        let (status, problem) = app.put_image(3, "image/png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec()).await;
        assert_eq!(status, 415, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("GIF"), "{problem}");

        // Over the byte limit: 413 naming it.
        let (status, problem) = app.put_image(3, "image/png", png(60, 60, 3)).await;
        assert_eq!(status, 413, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("4096 bytes (IMAGE_MAX_BYTES)"), "{problem}");

        // A tiny file claiming 100000 x 100000 pixels: 422 naming the limit, decided from the header.
        let (status, problem) = app.put_image(3, "image/png", png_claiming(100_000, 100_000)).await;
        assert_eq!(status, 422, "{problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("100000 x 100000") && detail.contains("at most 64 pixels (IMAGE_MAX_DIMENSION)"), "{problem}");
        let (status, _) = app.put_image(3, "image/png", png_claiming(65, 1)).await;
        assert_eq!(status, 422);

        // Refusals change nothing: beer 3 keeps the link it was written with.
        let (_, beer) = app.get_json("/beers/3").await;
        assert_eq!(beer["image_url"], "https://example.com/beer.png");

        // No such beer, bad id.
        assert_eq!(app.put_image(999, "image/png", png(1, 1, 9)).await.0, 404);
        assert_eq!(app.put_image(0, "image/png", png(1, 1, 9)).await.0, 400);
    }

    async fn images_are_shared_replaced_and_removed_with_their_last_beer(backend) {
        let app = TestApp::spawn(backend).await.with_beers(2).await;
        let first = png(4, 4, 10);
        let (_, one) = app.put_image(1, "image/png", first.clone()).await;
        let (_, two) = app.put_image(2, "image/png", first.clone()).await;
        let shared = image_url(&one).to_owned();
        assert_eq!(image_url(&two), shared, "the same content is one image");

        // Both APIs and every read answer the stored image's URL.
        let (_, punk) = app.get_json("/v2/beers/1").await;
        assert_eq!(punk[0]["image_url"], shared.as_str());
        let (_, listed) = app.get_json("/beers?ids=1|2").await;
        assert!(listed.as_array().unwrap().iter().all(|beer| image_url(beer) == shared));

        // A JSON replace keeps the stored image (images have their own resource).
        let response = app.send_json(reqwest::Method::PUT, "/beers/1", None, &sample_beer("Renamed")).await;
        let replaced: Value = response.json().await.unwrap();
        assert_eq!(replaced["name"], "Renamed");
        assert_eq!(image_url(&replaced), shared);

        // Replacing beer 1's image: the shared one stays for beer 2.
        let (status, one) = app.put_image(1, "image/png", png(4, 4, 11)).await;
        assert_eq!(status, 200);
        let replacement = image_url(&one).to_owned();
        assert_ne!(replacement, shared);
        assert_eq!(app.fetch_image(&shared).await.0, 200);

        // Removing beer 2's image orphans the shared one: it is gone.
        let (status, _) = app.delete_image(2).await;
        assert_eq!(status, 204);
        let (_, two) = app.get_json("/beers/2").await;
        assert_eq!(two["image_url"], Value::Null, "no stored image and no written link: {two}");
        assert_eq!(app.fetch_image(&shared).await.0, 404);
        let (status, problem) = app.delete_image(2).await;
        assert_eq!(status, 404);
        assert_eq!(problem["detail"], "beer 2 has no image");
        assert_eq!(app.delete_image(999).await.0, 404);

        // Deleting the beer removes its image with it.
        let response = app.client.delete(app.url("/beers/1")).send().await.unwrap();
        assert_eq!(response.status(), 204);
        assert_eq!(app.fetch_image(&replacement).await.0, 404);
        assert!(!app.catalog.reads().has_images().await.unwrap());

        // A beer written with an external link keeps it until an image replaces it; DELETE clears it.
        let (status, created) = app.post_beer(&sample_beer("Linked")).await;
        assert_eq!(status, 201);
        assert_eq!(created["image_url"], "https://example.com/beer.png");
        let id = created["id"].as_i64().unwrap();
        assert_eq!(app.delete_image(id).await.0, 204);
        let (_, linked) = app.get_json(&format!("/beers/{id}")).await;
        assert_eq!(linked["image_url"], Value::Null);
    }

    async fn image_writes_need_the_api_key(backend) {
        let app = TestApp::spawn_with(backend, &["--api-keys", "secret"], |_| {}).await;
        let response = app.send_json(reqwest::Method::POST, "/beers", Some("secret"), &sample_beer("Keyed")).await;
        assert_eq!(response.status(), 201);
        assert_eq!(app.put_image(1, "image/png", png(1, 1, 1)).await.0, 401);
        assert_eq!(app.delete_image(1).await.0, 401);
        let response = app
            .client
            .put(app.url("/beers/1/image"))
            .bearer_auth("secret")
            .body(png(1, 1, 1))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    async fn an_over_limit_body_gets_a_413_the_client_reads(backend) {
        let app = TestApp::spawn_with(backend, &["--image-max-bytes", "1024"], |_| {}).await.with_beers(1).await;
        let two_mib = vec![b'x'; 2 * 1024 * 1024];
        // Repeated: the failure this guards against (the server closing under a client still sending) is a race.
        for attempt in 0..5 {
            let response = app
                .client
                .post(app.url("/beers"))
                .header(CONTENT_TYPE, "application/json")
                .body(two_mib.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("attempt {attempt}: POST /beers: {e:?}"));
            assert_eq!(response.status(), 413, "attempt {attempt}");
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["status"], 413);
            assert!(problem["detail"].as_str().unwrap().contains("65536 bytes"), "{problem}");

            let response = app
                .client
                .put(app.url("/beers/1/image"))
                .header(CONTENT_TYPE, "image/png")
                .body(two_mib.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("attempt {attempt}: PUT /beers/1/image: {e:?}"));
            assert_eq!(response.status(), 413, "attempt {attempt}");
            let problem: Value = response.json().await.unwrap();
            assert!(problem["detail"].as_str().unwrap().contains("1024 bytes (IMAGE_MAX_BYTES)"), "{problem}");
        }
        // A client still sending when the answer is ready (any link slower than loopback) reads it too.
        for head in ["POST /beers HTTP/1.1\r\nHost: test\r\nContent-Type: application/json", "PUT /beers/1/image HTTP/1.1\r\nHost: test"] {
            let answer = paced_upload(&app.address, head, two_mib.len())
                .await
                .unwrap_or_else(|e| panic!("{head}: the connection was cut: {e}"));
            assert!(answer.starts_with("HTTP/1.1 413"), "{head}: {answer}");
            assert!(answer.contains("\"status\":413"), "{head}: {answer}");
        }
        assert_eq!(app.get("/beers/1").await.status(), 200);

        // A client that waits for `100 Continue` before sending gets the 413 instead, at once, and sends nothing.
        let mut stream = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap();
        let head = format!("PUT /beers/1/image HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n", two_mib.len());
        tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let read = tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut answer);
        tokio::time::timeout(std::time::Duration::from_secs(5), read)
            .await
            .expect("answered and closed without waiting for a body")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "no 100 Continue, straight to the 413: {answer}");
    }

    async fn production_needs_a_public_base_url_once_images_exist(backend) {
        let database = TestDatabase::create(backend).await;
        let mut config = config_for(&database.url, &["--api-keys", "k"]);
        let store = storage::connect(&config.database, &config.store).await.unwrap();
        store.migrate().await.unwrap();
        config.app_env = AppEnv::Production;

        // No images yet: it starts, and refuses uploads until PUBLIC_BASE_URL is set.
        let app = Application::build(&config).await.unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        let server = tokio::spawn(app.run_until_stopped(std::future::pending::<()>()));
        let beer: Value = reqwest::Client::new()
            .post(format!("{address}/beers"))
            .bearer_auth("k")
            .json(&sample_beer("First"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let response = reqwest::Client::new()
            .put(format!("{address}/beers/{}/image", beer["id"]))
            .bearer_auth("k")
            .body(png(1, 1, 1))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        let problem: Value = response.json().await.unwrap();
        assert!(problem["detail"].as_str().unwrap().contains("PUBLIC_BASE_URL"), "{problem}");
        server.abort();

        // With an image in the catalog, start-up fails naming the variable...
        let image = beer_catalog::domain::image::inspect(png(1, 1, 1), config.image_limits).unwrap();
        store.set_image(beer["id"].as_i64().unwrap(), &image).await.unwrap().unwrap();
        let error = Application::build(&config).await.err().expect("start-up refused");
        assert!(format!("{error:#}").contains("needs PUBLIC_BASE_URL"), "{error:#}");

        // ...and with it, links are absolute on that URL.
        config.public_base_url = Some(beer_catalog::config::PublicBaseUrl::parse("https://beers.example.com/").unwrap());
        let app = Application::build(&config).await.unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        let server = tokio::spawn(app.run_until_stopped(std::future::pending::<()>()));
        let body: Value = reqwest::get(format!("{address}/v2/beers/{}", beer["id"])).await.unwrap().json().await.unwrap();
        let expected = format!("https://beers.example.com/images/{}", image.meta.image.file_name());
        assert_eq!(body[0]["image_url"], expected.as_str());
        server.abort();
        store.close().await;
    }
}
