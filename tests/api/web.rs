//! The web pages over HTTP (the browser tests in tests/browser drive them in Chromium): HTML with a strict content
//! security policy and ETags, the same beers as the API, error pages for browsers only, and a database outage as
//! a 503 page.

use std::time::Duration;

use beer_catalog::domain::ImageLimits;
use beer_catalog::http::rate_limit::RateLimiter;
use beer_catalog::http::{AppState, ImageSettings, WritePolicy};
use beer_catalog::storage::{ImportRecord, StackSettings};
use reqwest::header::{ACCEPT, CONTENT_TYPE, IF_NONE_MATCH};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::backend_tests;
use crate::helpers::{TestApp, sample_beer};

/// What Chromium sends when it navigates to a page.
const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8";

async fn browse(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header(ACCEPT, BROWSER_ACCEPT)
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

/// Beer ids linked from a catalog page, in order.
fn linked_ids(html: &str) -> Vec<i64> {
    html.split("<h2><a href=\"/catalog/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().parse().unwrap())
        .collect()
}

backend_tests! {
    async fn pages_are_html_with_a_strict_policy_and_revalidate_with_etags(backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.post_beer(&sample_beer("Etag Ale")).await.0, 201);
        for path in ["/", "/catalog/1", "/catalog/new", "/catalog/1/edit", "/docs"] {
            let response = browse(&app, path).await;
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8", "{path}");
            let policy = header(&response, "content-security-policy");
            for directive in ["default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:"] {
                assert!(policy.contains(directive), "{path}: {policy}");
            }
            let body = response.text().await.unwrap();
            assert!(!body.contains("<script>") && !body.contains(" style="), "{path}: no inline script or style");
        }

        let first = browse(&app, "/").await;
        let etag = header(&first, "etag").to_owned();
        assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
        assert_eq!(header(&first, "cache-control"), "no-cache");
        let revalidated = app.client.get(app.url("/")).header(IF_NONE_MATCH, &etag).send().await.unwrap();
        assert_eq!(revalidated.status(), 304);
        assert!(revalidated.bytes().await.unwrap().is_empty());

        assert_eq!(app.post_beer(&sample_beer("Changes The Page")).await.0, 201);
        let changed = app.client.get(app.url("/")).header(IF_NONE_MATCH, &etag).send().await.unwrap();
        assert_eq!(changed.status(), 200, "a write changes the page, so the old tag no longer matches");
        assert_ne!(header(&changed, "etag"), etag);
    }

    async fn the_catalog_shows_the_beers_the_api_returns_for_the_same_query(backend) {
        let app = TestApp::spawn(backend).await;
        for (name, abv) in [("Punk One", 4.0), ("Other", 9.0), ("Pale Punk", 7.5), ("Punky Strong", 10.0)] {
            let mut beer = sample_beer(name);
            beer["abv"] = abv.into();
            assert_eq!(app.post_beer(&beer).await.0, 201);
        }
        // More than a page of beers, with pH and styles to filter and sort by.
        let records: Vec<_> = (0..30).map(|i| {
            let mut beer = sample_beer(&format!("Filler {i:02}"));
            beer["ph"] = (3.0 + f64::from(i) * 0.1).into();
            beer["style"] = (if i % 3 == 0 { "Stout" } else { "Pale Ale" }).into();
            ImportRecord { id: None, fields: serde_json::from_value(beer).unwrap(), image: None }
        }).collect();
        app.catalog.writes().import(&records, &|_| {}).await.unwrap();
        for query in ["beer_name=pnk", "beer_name=punk&abv_gt=5", "abv_lt=8&food=tacos", "page=2&per_page=1", "",
                      "page=2", "ph_lt=4", "ph_gt=4.2&ebc_lt=20", "sort=abv:desc,name", "style=stout&sort=name:desc",
                      "yeast=wyeast&ids=2|5|9", "sort=ph:desc&page=2"] {
            let api: Vec<Value> = app.get(&format!("/beers?{query}")).await.json().await.unwrap();
            let api_ids: Vec<i64> = api.iter().map(|b| b["id"].as_i64().unwrap()).collect();
            let page = browse(&app, &format!("/?{query}")).await;
            assert_eq!(page.status(), 200, "{query}");
            assert_eq!(linked_ids(&page.text().await.unwrap()), api_ids, "{query}");
        }
        // A submitted form sends its empty fields: ignored.
        let page = browse(&app, "/?beer_name=punk&abv_gt=&hops=&sort=").await;
        assert_eq!(linked_ids(&page.text().await.unwrap()).len(), 3);
        // A parameter the API would refuse is refused here too, named, rather than silently showing everything.
        for (query, param) in [("foo=1", "foo"), ("beer_name=punk&utm_source=mail", "utm_source"), ("sort=colour", "sort")] {
            let api = app.get(&format!("/beers?{query}")).await;
            assert_eq!(api.status(), 400, "{query}");
            let page = browse(&app, &format!("/?{query}")).await;
            assert_eq!(page.status(), 400, "{query}");
            let html = page.text().await.unwrap();
            assert!(html.contains(&format!("<code>{param}</code>")) || html.contains(&format!("id=\"f-{param}-error\"")), "{query}: {html}");
        }
        // The order chosen is kept in the form, a custom one included.
        let html = browse(&app, "/?sort=abv:desc").await.text().await.unwrap();
        assert!(html.contains(r#"<option value="abv:desc" selected>"#), "{html}");
        let html = browse(&app, "/?sort=ph,name").await.text().await.unwrap();
        assert!(html.contains(r#"<option value="ph,name" selected>As in the address: ph,name</option>"#), "{html}");

        let bad = browse(&app, "/?abv_gt=strong&brewed_before=2020").await;
        assert_eq!(bad.status(), 400);
        let html = bad.text().await.unwrap();
        assert!(html.contains(r#"id="f-abv_gt-error">must be a number<"#), "{html}");
        assert!(html.contains(r#"id="f-brewed_before-error">must be a date in the format MM-YYYY<"#), "{html}");
    }

    async fn a_beer_page_shows_the_whole_recipe(backend) {
        let app = TestApp::spawn(backend).await;
        let mut beer = sample_beer("Recipe <Ale>");
        beer["method"] = serde_json::json!({
            "mash_temp": [{"temp": {"value": 65, "unit": "celsius"}, "duration": 75}],
            "fermentation": {"temp": {"value": 19, "unit": "celsius"}},
            "twist": "Dry hopped twice"
        });
        beer["brewers_tips"] = "Keep it cold.".into();
        let (status, created) = app.post_beer(&beer).await;
        assert_eq!(status, 201);
        let html = browse(&app, &format!("/catalog/{}", created["id"])).await.text().await.unwrap();
        for expected in [
            "<h1>Recipe &lt;Ale&gt;</h1>", "65 celsius", "<td>75</td>", "19 celsius", "Dry hopped twice",
            "Maris Otter", "4.5 kilograms", "Citra", "30 grams", "Wyeast 1056", "Spicy tacos", "Keep it cold.",
            r#"aria-label="No label image for Recipe &lt;Ale&gt;""#,
        ] {
            assert!(html.contains(expected), "{expected} missing from {html}");
        }
    }

    async fn stored_labels_are_shown_from_this_origin_with_their_size_and_others_are_not_fetched(backend) {
        let app = TestApp::spawn(backend).await;
        // sample_beer's image_url is on another host: a placeholder, never a request there.
        let (_, beer) = app.post_beer(&sample_beer("Labelled Lager")).await;
        let id = beer["id"].as_i64().unwrap();
        let html = browse(&app, &format!("/catalog/{id}")).await.text().await.unwrap();
        assert!(!html.contains("example.com/beer.png"), "{html}");
        assert!(html.contains(r#"aria-label="No label image for Labelled Lager""#), "{html}");

        let mut label = Vec::new();
        let mut encoder = png::Encoder::new(&mut label, 2, 8);
        encoder.set_color(png::ColorType::Grayscale);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[200; 16]).unwrap();
        writer.finish().unwrap();
        let uploaded: Value = app.client.put(app.url(&format!("/beers/{id}/image")))
            .header(CONTENT_TYPE, "image/png").body(label).send().await.unwrap().json().await.unwrap();
        let file = uploaded["image_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        // The catalog and a beer's page draw renditions (`srcset`, at most twice the drawn width); the editor shows
        // the original it replaces.
        let sha256 = file.trim_end_matches(".png");
        let rendition = |width: u32| format!("/images/{sha256}/{width}.webp");
        let list = format!(
            r#"src="{}" srcset="{} 64w, {} 128w" sizes="64px" width="64" height="250""#,
            rendition(64), rendition(64), rendition(128)
        );
        let beer_page = format!(
            r#"src="{}" srcset="{} 64w, {} 128w, {} 256w" sizes="135px" width="135" height="529""#,
            rendition(256), rendition(64), rendition(128), rendition(256)
        );
        for (path, img) in [
            ("/".to_owned(), list),
            (format!("/catalog/{id}"), beer_page),
            (format!("/catalog/{id}/edit"), format!(r#"src="/images/{file}" width="135" height="529""#)),
        ] {
            let html = browse(&app, &path).await.text().await.unwrap();
            let img = format!(r#"{img} alt="Label of Labelled Lager""#);
            assert!(html.contains(&img), "{path}: {img} missing from {html}");
        }
    }

    async fn errors_are_pages_for_browsers_and_json_for_everyone_else(backend) {
        let app = TestApp::spawn(backend).await;
        for path in ["/catalog/999", "/catalog/abc", "/catalog/0/edit", "/beers/999", "/v2/beers/999", "/no/such/page"] {
            let response = browse(&app, path).await;
            assert_eq!(response.status(), 404, "{path}");
            assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8", "{path}");
            assert!(header(&response, "content-security-policy").contains("script-src 'self'"), "{path}");
            let html = response.text().await.unwrap();
            assert!(html.contains("<h1 id=\"error-title\">404 Not Found</h1>"), "{path}: {html}");
        }
        // The API's clients are unaffected: no Accept, anything, JSON first.
        for accept in [None, Some("*/*"), Some("application/json"), Some("application/json, text/html")] {
            let mut request = app.client.get(app.url("/beers/999"));
            if let Some(accept) = accept {
                request = request.header(ACCEPT, accept);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 404);
            assert_eq!(header(&response, "content-type"), "application/problem+json", "{accept:?}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["detail"], "no beer with id 999");
        }
        let (status, punk) = app.get_json("/v2/beers/999").await;
        assert_eq!((status, punk["message"].as_str()), (404, Some("No beer found that matches the ID 999")));
        let page = browse(&app, "/v2/beers/999").await.text().await.unwrap();
        assert!(page.contains("No beer found that matches the ID 999"), "{page}");
    }

    async fn with_the_database_down_pages_are_503_pages(backend) {
        let app = TestApp::spawn(backend).await;
        // A database whose pool is closed fails like one that went away (PoolClosed: unavailable). Its own stack,
        // without the server's read model: that answers from memory while the version is still confirmed, which a
        // closed pool does not stop.
        let config = crate::helpers::config_for(&app.database_url, &[]);
        let store = beer_catalog::storage::connect(&config.database, &config.store).await.unwrap();
        store.close().await;
        let images = ImageSettings {
            public_base_url: None,
            limits: ImageLimits { max_bytes: 1024, max_dimension: 64 },
        };
        let catalog = beer_catalog::storage::open(store, &StackSettings { replica: None, read_model: None, metrics: Default::default() }).await.unwrap();
        let state = AppState::new(catalog, WritePolicy::Open, images);
        let router = beer_catalog::http::app(state, Duration::from_secs(5), RateLimiter::disabled());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

        for path in ["/", "/catalog/1", "/catalog/1/edit", "/beers", "/v2/beers"] {
            let response = app.client.get(format!("{base}{path}")).header(ACCEPT, BROWSER_ACCEPT).send().await.unwrap();
            assert_eq!(response.status(), 503, "{path}");
            assert_eq!(header(&response, "retry-after"), "5", "{path}");
            assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8", "{path}");
            let html = response.text().await.unwrap();
            assert!(html.contains("503 Service Unavailable") && html.contains("Try again in a few seconds"), "{html}");
        }
        let json = app.client.get(format!("{base}/beers")).send().await.unwrap();
        assert_eq!(json.status(), 503);
        assert_eq!(header(&json, "content-type"), "application/problem+json");
        // Pages that need no database still work: the editor for a new beer, the API reference.
        for path in ["/catalog/new", "/docs"] {
            assert_eq!(app.client.get(format!("{base}{path}")).send().await.unwrap().status(), 200, "{path}");
        }
    }

    async fn assets_are_embedded_and_cached_under_content_hashed_names(backend) {
        let app = TestApp::spawn(backend).await;
        let html = browse(&app, "/docs").await.text().await.unwrap();
        for (prefix, content_type) in [
            ("/assets/style.", "text/css; charset=utf-8"),
            ("/assets/app.", "text/javascript; charset=utf-8"),
            ("/assets/icon.", "image/svg+xml"),
        ] {
            let start = html.find(prefix).unwrap_or_else(|| panic!("{prefix} not linked"));
            let path = html[start..].split('"').next().unwrap();
            let response = app.get(path).await;
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(header(&response, CONTENT_TYPE.as_str()), content_type);
            assert_eq!(header(&response, "cache-control"), "public, max-age=31536000, immutable");
            let etag = header(&response, "etag").to_owned();
            assert!(!response.bytes().await.unwrap().is_empty());
            let again = app.client.get(app.url(path)).header(IF_NONE_MATCH, &etag).send().await.unwrap();
            assert_eq!(again.status(), 304, "{path}");
        }
        assert_eq!(app.get("/assets/style.000000000000.css").await.status(), 404);
    }
}
