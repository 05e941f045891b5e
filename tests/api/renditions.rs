//! Label renditions: made when an image is uploaded or imported (before anything asks for them), served as WebP
//! under `/images/{sha256}/{width}.webp` with immutable caching and 304s, made on the first request for images
//! stored before renditions existed, and removed with their original; `image_url` stays the original.

use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use serde_json::Value;
use sqlx::Connection as _;

use crate::backend_tests;
use crate::helpers::{TestApp, beer_catalog, pg_connect, sample_beer, within_bound};
use crate::images::png;

const WIDTHS: [u32; 3] = [64, 128, 256];

/// The SHA-256 an `image_url` names (`.../images/<sha256>.png`).
fn sha256_of(beer: &Value) -> String {
    let url = beer["image_url"]
        .as_str()
        .unwrap_or_else(|| panic!("no image_url: {beer}"));
    let file = url.rsplit('/').next().unwrap();
    assert!(file.ends_with(".png"), "image_url names the original: {url}");
    file.trim_end_matches(".png").to_owned()
}

/// Which renditions of `sha256` the database holds, read through the storage interface (no HTTP cache between).
async fn stored_widths(app: &TestApp, sha256: &str) -> Vec<u32> {
    let mut widths = Vec::new();
    for width in WIDTHS {
        if app
            .catalog
            .reads()
            .image_rendition(sha256, width)
            .await
            .unwrap()
            .is_some()
        {
            widths.push(width);
        }
    }
    widths
}

/// Removes every stored rendition, as in a database written before they existed.
async fn forget_renditions(database_url: &str) {
    let statement = "DELETE FROM image_renditions";
    if database_url.starts_with("sqlite:") {
        let mut connection = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::query(statement).execute(&mut connection).await.unwrap();
    } else {
        let mut connection = pg_connect(database_url).await;
        sqlx::query(statement).execute(&mut connection).await.unwrap();
    }
}

/// GETs a rendition: checks it is a WebP of `width` pixels (or the original's, when narrower) with the original's
/// aspect ratio, and returns its `ETag`.
async fn fetch_rendition(app: &TestApp, sha256: &str, width: u32, original: (u32, u32)) -> String {
    let path = format!("/images/{sha256}/{width}.webp");
    let response = app.get(&path).await;
    assert_eq!(response.status(), 200, "{path}");
    let headers = response.headers().clone();
    assert_eq!(headers[CONTENT_TYPE], "image/webp", "{path}");
    assert_eq!(headers[CACHE_CONTROL], "public, max-age=31536000, immutable", "{path}");
    let etag = headers[ETAG].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && etag.len() == 66,
        "a strong SHA-256 validator: {etag}"
    );
    let bytes = response.bytes().await.unwrap();
    let decoded = image::load_from_memory_with_format(&bytes, image::ImageFormat::WebP).unwrap();
    let drawn = width.min(original.0);
    let height = (original.1 * drawn + original.0 / 2) / original.0;
    assert_eq!((decoded.width(), decoded.height()), (drawn, height), "{path}");
    etag
}

backend_tests! {
    async fn uploads_get_renditions_that_go_with_their_original(backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.post_beer(&sample_beer("Labelled")).await.0, 201);
        let original = png(300, 600, 3);
        let (status, beer) = app.put_image(1, "image/png", original.clone()).await;
        assert_eq!(status, 200, "{beer}");
        let sha256 = sha256_of(&beer);
        assert_eq!(stored_widths(&app, &sha256).await, WIDTHS, "made with the upload");

        for width in WIDTHS {
            let etag = fetch_rendition(&app, &sha256, width, (300, 600)).await;
            let path = format!("/images/{sha256}/{width}.webp");
            let revalidated = app.client.get(app.url(&path)).header(IF_NONE_MATCH, &etag).send().await.unwrap();
            assert_eq!(revalidated.status(), 304, "{path}");
        }
        // `image_url` still serves the original, byte for byte.
        let served = app.client.get(beer["image_url"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(served.bytes().await.unwrap().to_vec(), original);

        // Not a width that is made, not a rendition's name, not a stored image: 404 saying what exists.
        let unknown = "0".repeat(64);
        for path in [
            format!("/images/{sha256}/100.webp"),
            format!("/images/{sha256}/64.png"),
            format!("/images/{unknown}/64.webp"),
            "/images/not-a-hash/64.webp".to_owned(),
        ] {
            let response = app.get(&path).await;
            assert_eq!(response.status(), 404, "{path}");
            let problem: Value = response.json().await.unwrap();
            assert!(problem["detail"].as_str().unwrap().contains("widths 64, 128, 256"), "{path}: {problem}");
        }

        // Removing the image removes its renditions.
        let response = app.client.delete(app.url("/beers/1/image")).send().await.unwrap();
        assert_eq!(response.status(), 204);
        assert!(stored_widths(&app, &sha256).await.is_empty(), "removed with the original");
        let path = format!("/images/{sha256}/64.webp");
        within_bound("the rendition gone", || async { app.get(&path).await.status() == 404 }).await;
    }

    async fn a_narrow_image_is_never_enlarged(backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.post_beer(&sample_beer("Small")).await.0, 201);
        let (status, beer) = app.put_image(1, "image/png", png(100, 50, 4)).await;
        assert_eq!(status, 200, "{beer}");
        let sha256 = sha256_of(&beer);
        for width in WIDTHS {
            fetch_rendition(&app, &sha256, width, (100, 50)).await;
        }
    }

    async fn an_image_whose_pixels_do_not_decode_is_refused(backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.post_beer(&sample_beer("Broken")).await.0, 201);
        // A valid header (the type and size are fine), then half of the pixel data.
        let mut truncated = png(200, 200, 5);
        truncated.truncate(truncated.len() / 2);
        let (status, problem) = app.put_image(1, "image/png", truncated).await;
        assert_eq!(status, 422, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("cannot be decoded"), "{problem}");
        let (_, beer) = app.get_json("/beers/1").await;
        assert_eq!(beer["image_url"], "https://example.com/beer.png", "nothing stored: {beer}");
    }

    async fn imports_store_renditions_and_older_images_get_them_when_asked(backend) {
        let app = TestApp::spawn(backend).await;
        let dir = std::env::temp_dir().join(format!("renditions-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("label.png"), png(272, 1060, 6)).unwrap();
        let file = dir.join("beers.json");
        let json = r#"[{"id": 1, "name": "Imported", "abv": 5.0, "image_url": "https://images.punkapi.com/v2/label.png"}]"#;
        std::fs::write(&file, json).unwrap();
        let output = beer_catalog(
            &app.database_url,
            &["import", file.to_str().unwrap(), "--images", dir.to_str().unwrap()],
        );
        let _ = std::fs::remove_dir_all(&dir);
        assert!(output.status.success(), "{output:?}");
        within_bound("the imported beer", || async { app.get("/beers/1").await.status() == 200 }).await;
        let (_, beer) = app.get_json("/beers/1").await;
        let sha256 = sha256_of(&beer);
        assert_eq!(stored_widths(&app, &sha256).await, WIDTHS, "made by the import");

        // A database from before renditions: made on the first request, stored, the same from then on.
        forget_renditions(&app.database_url).await;
        assert!(stored_widths(&app, &sha256).await.is_empty());
        let made = fetch_rendition(&app, &sha256, 128, (272, 1060)).await;
        assert_eq!(stored_widths(&app, &sha256).await, WIDTHS, "all of them stored at once");
        assert_eq!(app.catalog.reads().image_rendition(&sha256, 128).await.unwrap().unwrap().sha256, made.trim_matches('"'));
        fetch_rendition(&app, &sha256, 256, (272, 1060)).await;
    }
}
