//! The whole catalog in one download (`/beers/all.ndjson`, `/beers/all.beerjson`): every matching beer once, by
//! id, across the export's internal chunks (500 beers), resumable with `since_id`, one request for the rate limit.

use serde_json::Value;

use crate::helpers::{TestApp, header};
use crate::{backend_independent_tests, backend_tests};

/// A catalog of `count` generated beers (more than one export chunk).
async fn generated_catalog(app: &TestApp, count: u64) {
    let mut text = Vec::new();
    beer_catalog::commands::generate::write_catalog(&mut text, count, 1, 7).unwrap();
    let plan = beer_catalog::commands::import::plan(std::str::from_utf8(&text).unwrap(), false).unwrap();
    app.catalog.writes().import(&plan.records, &|_| {}).await.unwrap();
}

fn lines(body: &str) -> Vec<Value> {
    body.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

backend_tests! {
    async fn the_whole_catalog_streams_as_ndjson_and_resumes(backend) {
        let app = TestApp::spawn(backend).await;
        generated_catalog(&app, 1_234).await;
        let response = app.get("/beers/all.ndjson").await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-type").unwrap(), "application/x-ndjson");
        assert_eq!(header(&response, "x-total-count").unwrap(), "1234");
        assert!(header(&response, "cache-control").unwrap().starts_with("public"));
        let beers = lines(&response.text().await.unwrap());
        let ids: Vec<i64> = beers.iter().map(|b| b["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, (1..=1_234).collect::<Vec<_>>(), "every beer once, by id, across chunks");
        assert_eq!(beers[700], app.get_json("/beers/701").await.1, "each line is the beer as GET /beers/701 has it");

        // A filter, resumed after an interruption at some id: the rest, exactly.
        let (_, strong) = app.get_json("/beers?abv_gt=8&per_page=80").await;
        let total: usize = header(&app.get("/beers?abv_gt=8").await, "x-total-count").unwrap().parse().unwrap();
        let all = lines(&app.get("/beers/all.ndjson?abv_gt=8").await.text().await.unwrap());
        assert_eq!(all.len(), total);
        assert_eq!(all[..strong.as_array().unwrap().len()], strong.as_array().unwrap()[..]);
        let cut = all[total / 2]["id"].as_i64().unwrap();
        let response = app.get(&format!("/beers/all.ndjson?abv_gt=8&since_id={cut}")).await;
        let rest_count: usize = header(&response, "x-total-count").unwrap().parse().unwrap();
        let rest = lines(&response.text().await.unwrap());
        assert_eq!(rest.len(), rest_count);
        assert_eq!(rest[..], all[total / 2 + 1..]);
    }

    async fn the_whole_catalog_streams_as_one_beerjson_document(backend) {
        let app = TestApp::spawn(backend).await;
        app.import_punk_dataset().await;
        let response = app.get("/beers/all.beerjson?abv_gt=8").await;
        assert_eq!(header(&response, "content-type").unwrap(), "application/vnd.beerjson+json");
        let total: usize = header(&response, "x-total-count").unwrap().parse().unwrap();
        let document: Value = response.json().await.unwrap();
        let recipes = document["beerjson"]["recipes"].as_array().unwrap();
        assert_eq!(recipes.len(), total);
        let mut paged = Vec::new();
        for page in 1..=total.div_ceil(80) {
            let page: Value = app.get(&format!("/beers.beerjson?abv_gt=8&per_page=80&page={page}")).await.json().await.unwrap();
            paged.extend(page["beerjson"]["recipes"].as_array().unwrap().iter().cloned());
        }
        assert_eq!(recipes[..], paged[..], "the same recipes as the paged documents");
        let empty: Value = app.get("/beers/all.beerjson?since_id=100000").await.json().await.unwrap();
        assert_eq!(empty["beerjson"]["recipes"], serde_json::json!([]));
    }
}

backend_independent_tests! {
    async fn the_export_refuses_pages_and_sorting(backend) {
        let app = TestApp::spawn(backend).await;
        for query in ["page=2", "per_page=10", "sort=abv", "since_id=-1", "since_id=x", "abv_gt=strong", "colour=red"] {
            let response = app.get(&format!("/beers/all.ndjson?{query}")).await;
            assert_eq!(response.status(), 400, "{query}");
            assert_eq!(header(&response, "content-type").unwrap(), "application/problem+json");
        }
    }

    async fn the_export_is_one_request_for_the_rate_limit(backend) {
        let app = TestApp::spawn(backend).await;
        generated_catalog(&app, 1_100).await;
        let remaining = |r: &reqwest::Response| header(r, "x-ratelimit-remaining").unwrap().parse::<i64>().unwrap();
        let before = remaining(&app.get("/beers/1").await);
        let export = app.get("/beers/all.ndjson").await;
        let during = remaining(&export);
        assert_eq!(export.text().await.unwrap().lines().count(), 1_100);
        let after = remaining(&app.get("/beers/1").await);
        assert_eq!((before - during, during - after), (1, 1));
    }
}
