//! Beers as BeerXML and BeerJSON recipes (docs/recipe-formats.md): downloads, `Accept` negotiation on the native
//! routes only, the response cache keeping representations apart, and `import` of both formats with a round trip
//! (export, import into an empty catalog, export) giving the same document. The real readers (the BeerJSON
//! schema, pybeerxml) are run over every Punk beer by scripts/check-recipe-formats.sh.

use serde_json::Value;

use crate::helpers::{TestApp, beer_catalog, header, within_bound};
use crate::{backend_independent_tests, backend_tests};

const BEERJSON: &str = "application/vnd.beerjson+json";

async fn get_with(app: &TestApp, path: &str, accept: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("accept", accept)
        .send()
        .await
        .unwrap()
}

fn write_temp(contents: &str, extension: &str) -> tempfile_path::TempPath {
    tempfile_path::TempPath::new(contents, extension)
}

/// A file removed when dropped (the tests share no directory).
mod tempfile_path {
    pub struct TempPath(pub std::path::PathBuf);

    impl TempPath {
        pub fn new(contents: &str, extension: &str) -> Self {
            let path = std::env::temp_dir().join(format!("recipes-{}.{extension}", uuid::Uuid::new_v4()));
            std::fs::write(&path, contents).unwrap();
            TempPath(path)
        }

        pub fn as_str(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

backend_tests! {
    async fn a_beer_downloads_and_negotiates_as_a_recipe(backend) {
        let app = TestApp::spawn(backend).await;
        app.import_punk_dataset().await;

        let download = app.get("/beers/1.xml").await;
        assert_eq!(download.status(), 200);
        assert_eq!(header(&download, "content-type").unwrap(), "application/xml; charset=utf-8");
        assert_eq!(header(&download, "content-disposition").unwrap(), "attachment; filename=\"buzz.xml\"");
        let xml = download.text().await.unwrap();
        assert!(xml.contains("<NAME>Buzz</NAME>") && xml.contains("<OG>1.044</OG>"), "{xml}");

        let negotiated = get_with(&app, "/beers/1", "application/xml").await;
        assert_eq!(header(&negotiated, "vary").unwrap(), "accept");
        assert!(header(&negotiated, "content-disposition").is_none());
        assert_eq!(negotiated.text().await.unwrap(), xml, "the same document either way");

        let download = app.get("/beers/1.beerjson").await;
        assert_eq!(header(&download, "content-type").unwrap(), BEERJSON);
        assert_eq!(header(&download, "content-disposition").unwrap(), "attachment; filename=\"buzz.beerjson\"");
        let beerjson: Value = download.json().await.unwrap();
        let recipe = &beerjson["beerjson"]["recipes"][0];
        assert_eq!(recipe["name"], "Buzz");
        assert_eq!(recipe["original_gravity"], serde_json::json!({"unit": "sg", "value": 1.044}));
        let negotiated: Value = get_with(&app, "/beers/1", BEERJSON).await.json().await.unwrap();
        assert_eq!(negotiated, beerjson);

        // JSON as ever: without Accept, for a browser, and when JSON is preferred.
        for accept in ["*/*", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                       "application/json, application/xml;q=0.5"] {
            let response = get_with(&app, "/beers/1", accept).await;
            assert_eq!(header(&response, "content-type").unwrap(), "application/json", "{accept}");
            assert_eq!(response.json::<Value>().await.unwrap()["name"], "Buzz");
        }

        // The beer page links both files.
        let page = get_with(&app, "/catalog/1", "text/html").await.text().await.unwrap();
        assert!(page.contains("Download for your brewing software"), "{page}");
        assert!(page.contains(r#"href="/beers/1.xml""#) && page.contains(r#"href="/beers/1.beerjson""#), "{page}");

        assert_eq!(app.get("/beers/999999.xml").await.status(), 404);
        assert_eq!(get_with(&app, "/beers/999999", "application/xml").await.status(), 404);
        let bad = app.get("/beers/zero.beerjson").await;
        assert_eq!(bad.status(), 400);
        assert_eq!(header(&bad, "content-type").unwrap(), "application/problem+json");
    }

    async fn lists_download_with_the_filters_and_pages_of_beers(backend) {
        let app = TestApp::spawn(backend).await;
        app.import_punk_dataset().await;
        let (_, strong) = app.get_json("/beers?abv_gt=8&per_page=80").await;
        let strong: Vec<&str> = strong.as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();

        let response = app.get("/beers.beerjson?abv_gt=8&per_page=80").await;
        assert_eq!(response.status(), 200);
        let total = header(&response, "x-total-count").unwrap();
        assert!(header(&response, "link").unwrap().contains("/beers.beerjson?"));
        assert_eq!(header(&response, "content-disposition").unwrap(), "attachment; filename=\"beers.beerjson\"");
        let document: Value = response.json().await.unwrap();
        let names: Vec<&str> = document["beerjson"]["recipes"].as_array().unwrap().iter()
            .map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, strong);
        assert!(total.parse::<usize>().unwrap() >= names.len());

        let xml = app.get("/beers.xml?abv_gt=8&per_page=80").await.text().await.unwrap();
        assert_eq!(xml.matches("<RECIPE>").count(), strong.len());
        let negotiated = get_with(&app, "/beers?abv_gt=8&per_page=80", "application/xml").await;
        assert_eq!(header(&negotiated, "x-total-count").unwrap(), total);
        assert_eq!(negotiated.text().await.unwrap(), xml);

        let bad = app.get("/beers.xml?abv_gt=strong").await;
        assert_eq!(bad.status(), 400);
        assert_eq!(header(&bad, "content-type").unwrap(), "application/problem+json");
    }

    async fn a_round_trip_through_import_gives_the_same_documents(backend) {
        let source = TestApp::spawn(backend).await;
        source.import_punk_dataset().await;
        for extension in ["xml", "beerjson"] {
            let copy = TestApp::spawn(backend).await;
            let mut pages = Vec::new();
            for page in 1..=5 {
                let path = format!("/beers.{extension}?per_page=80&page={page}");
                let document = source.get(&path).await.text().await.unwrap();
                let file = write_temp(&document, extension);
                let output = beer_catalog(&copy.database_url, &["import", file.as_str()]);
                let stdout = String::from_utf8_lossy(&output.stdout);
                assert!(output.status.success(), "{stdout} {}", String::from_utf8_lossy(&output.stderr));
                assert!(stdout.contains("skipped 0"), "{stdout}");
                pages.push((path, document));
            }
            for (path, document) in &pages {
                within_bound(&format!("{path} after the import"), || async {
                    copy.get(path).await.text().await.unwrap() == *document
                })
                .await;
            }
        }
    }
}

backend_independent_tests! {
    async fn the_punk_api_ignores_accept(backend) {
        let app = TestApp::spawn(backend).await;
        app.import_punk_dataset().await;
        for path in ["/v2/beers/1", "/v2/beers?per_page=3"] {
            let plain = app.get(path).await.bytes().await.unwrap();
            let asked = get_with(&app, path, "application/xml").await;
            assert_eq!(header(&asked, "content-type").unwrap(), "application/json");
            // It may vary by Accept-Encoding (compression), never by Accept.
            let varies_by_accept = asked
                .headers()
                .get_all("vary")
                .iter()
                .flat_map(|value| value.to_str().unwrap().split(','))
                .any(|name| name.trim().eq_ignore_ascii_case("accept"));
            assert!(!varies_by_accept, "{path}: {:?}", asked.headers());
            assert_eq!(asked.bytes().await.unwrap(), plain, "{path}");
        }
        // /beers/1.xml is not a Punk route either.
        assert_eq!(app.get("/v2/beers/1.xml").await.status(), 400);
    }

    async fn downloads_are_read_only(backend) {
        let app = TestApp::spawn(backend).await;
        app.import_punk_dataset().await;
        for path in ["/beers/1.xml", "/beers/1.beerjson"] {
            let put = app.send_json(reqwest::Method::PUT, path, None, &crate::helpers::sample_beer("X")).await;
            assert_eq!(put.status(), 405, "{path}");
            assert_eq!(header(&put, "allow").unwrap(), "GET, HEAD");
            let delete = app.client.delete(app.url(path)).send().await.unwrap();
            assert_eq!(delete.status(), 405, "{path}");
        }
        assert_eq!(app.get("/beers/1").await.status(), 200, "nothing was deleted");
    }

    async fn the_response_cache_keeps_each_representation(backend) {
        let app = TestApp::spawn(backend).await;
        app.import_punk_dataset().await;
        for _ in 0..2 {
            for (accept, starts) in [("application/json", "{"), ("application/xml", "<?xml"), (BEERJSON, "{\n")] {
                let response = get_with(&app, "/beers/2", accept).await;
                let body = response.text().await.unwrap();
                assert!(body.starts_with(starts), "{accept}: {body:.40}");
                if accept == BEERJSON {
                    assert!(body.contains("\"beerjson\""), "{body:.80}");
                }
            }
        }
    }

    async fn recipes_import_with_the_json_validation_and_report(backend) {
        let app = TestApp::spawn(backend).await;
        let long_name = "N".repeat(250);
        let xml = format!(
            "<?xml version=\"1.0\"?><RECIPES>\
             <RECIPE><NAME>Good Pale</NAME><BATCH_SIZE>20</BATCH_SIZE><OG>1.050</OG><ABV>5.2</ABV>\
             <HOPS><HOP><NAME>Cascade</NAME><AMOUNT>0.03</AMOUNT><USE>Boil</USE><TIME>60</TIME></HOP></HOPS></RECIPE>\
             <RECIPE><NAME>{long_name}</NAME><ABV>5</ABV></RECIPE></RECIPES>"
        );
        let file = write_temp(&xml, "xml");
        let output = beer_catalog(&app.database_url, &["import", file.as_str()]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(2), "{stdout}");
        assert!(stdout.contains("imported 1, skipped 1"), "{stdout}");
        assert!(stdout.contains("record #2") && stdout.contains("name"), "{stdout}");
        within_bound("the imported recipe", || async {
            app.get_json("/beers?beer_name=good_pale").await.1.as_array().is_some_and(|b| b.len() == 1)
        })
        .await;
        let (_, beers) = app.get_json("/beers?beer_name=good_pale").await;
        let beer = &beers[0];
        assert_eq!(beer["target_og"], 1050);
        assert_eq!(beer["volume"], serde_json::json!({"value": 20, "unit": "litres"}));
        assert_eq!(beer["ingredients"]["hops"][0]["add"], "start");
        assert_eq!(beer["ingredients"]["hops"][0]["amount"], serde_json::json!({"value": 30, "unit": "grams"}));

        let broken = write_temp("<RECIPES><RECIPE><NAME>X</NAME><OG>heavy</OG></RECIPE></RECIPES>", "xml");
        let output = beer_catalog(&app.database_url, &["import", broken.as_str()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success());
        assert!(stderr.contains("not a readable BeerXML document") && stderr.contains("recipe #1: OG must be a number"),
                "{stderr}");
    }
}
