//! The Punk API v2 surface against the real Punk dataset: every answer is checked against facts computed from the
//! dataset itself (every beer returned matches, and no matching beer is missing), not just status codes.

use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{TestApp, punk_dataset};

fn ids(beers: &[Value]) -> Vec<i64> {
    beers.iter().map(|b| b["id"].as_i64().unwrap()).collect()
}

fn number(beer: &Value, field: &str) -> Option<f64> {
    beer[field].as_f64()
}

/// The query's characters appear in order (case-insensitive; underscores are spaces).
fn fuzzy(haystack: &str, needle: &str) -> bool {
    let haystack = haystack.to_lowercase();
    let mut rest = haystack.as_str();
    for c in needle.replace('_', " ").to_lowercase().chars() {
        match rest.find(c) {
            Some(at) => rest = &rest[at + c.len_utf8()..],
            None => return false,
        }
    }
    true
}

/// `MM/YYYY` or `YYYY` (January) as a month number.
fn brewed(beer: &Value) -> i64 {
    let text = beer["first_brewed"].as_str().unwrap();
    match text.split_once('/') {
        Some((m, y)) => y.parse::<i64>().unwrap() * 12 + m.parse::<i64>().unwrap() - 1,
        None => text.parse::<i64>().unwrap() * 12,
    }
}

fn month(mm_yyyy: &str) -> i64 {
    let (m, y) = mm_yyyy.split_once('-').unwrap();
    y.parse::<i64>().unwrap() * 12 + m.parse::<i64>().unwrap() - 1
}

fn names<'a>(beer: &'a Value, kind: &str) -> Vec<&'a str> {
    beer["ingredients"][kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect()
}

type Predicate = Box<dyn Fn(&Value) -> bool>;

fn filter_cases() -> Vec<(&'static str, Predicate)> {
    let gt = |field: &'static str, x: f64| -> Predicate { Box::new(move |b| number(b, field).is_some_and(|v| v > x)) };
    let lt = |field: &'static str, x: f64| -> Predicate { Box::new(move |b| number(b, field).is_some_and(|v| v < x)) };
    vec![
        ("abv_gt=8", gt("abv", 8.0)),
        ("abv_lt=4.5", lt("abv", 4.5)),
        (
            "abv_gt=5.5&abv_lt=6.5",
            Box::new(|b| number(b, "abv").is_some_and(|v| v > 5.5 && v < 6.5)),
        ),
        ("ibu_gt=100", gt("ibu", 100.0)),
        ("ibu_lt=20", lt("ibu", 20.0)),
        ("ebc_gt=100", gt("ebc", 100.0)),
        ("ebc_lt=10.5", lt("ebc", 10.5)),
        ("ph_gt=4.4", gt("ph", 4.4)),
        ("ph_lt=4.2", lt("ph", 4.2)),
        (
            "ph_gt=4.2&ph_lt=4.5&abv_gt=5",
            Box::new(|b| {
                number(b, "ph").is_some_and(|v| v > 4.2 && v < 4.5) && number(b, "abv").is_some_and(|v| v > 5.0)
            }),
        ),
        ("brewed_before=11-2012", Box::new(|b| brewed(b) < month("11-2012"))),
        ("brewed_after=12-2015", Box::new(|b| brewed(b) > month("12-2015"))),
        (
            "brewed_after=01-2010&brewed_before=01-2011",
            Box::new(|b| brewed(b) > month("01-2010") && brewed(b) < month("01-2011")),
        ),
        (
            "beer_name=punk",
            Box::new(|b| fuzzy(b["name"].as_str().unwrap(), "punk")),
        ),
        ("beer_name=pnk", Box::new(|b| fuzzy(b["name"].as_str().unwrap(), "pnk"))),
        (
            "beer_name=Punk_IPA",
            Box::new(|b| fuzzy(b["name"].as_str().unwrap(), "punk ipa")),
        ),
        (
            "yeast=wyeast_1056",
            Box::new(|b| {
                b["ingredients"]["yeast"]
                    .as_str()
                    .is_some_and(|y| fuzzy(y, "wyeast 1056"))
            }),
        ),
        (
            "hops=citra",
            Box::new(|b| names(b, "hops").iter().any(|h| fuzzy(h, "citra"))),
        ),
        (
            "hops=nelson_sauvin",
            Box::new(|b| names(b, "hops").iter().any(|h| fuzzy(h, "nelson sauvin"))),
        ),
        (
            "malt=munich",
            Box::new(|b| names(b, "malt").iter().any(|m| fuzzy(m, "munich"))),
        ),
        (
            "food=cheese",
            Box::new(|b| {
                b["food_pairing"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f.as_str().unwrap().to_lowercase().contains("cheese"))
            }),
        ),
        (
            "food=spicy_chicken",
            Box::new(|b| {
                b["food_pairing"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f.as_str().unwrap().to_lowercase().contains("spicy chicken"))
            }),
        ),
        (
            "ids=1|106|325|9999",
            Box::new(|b| [1, 106, 325].contains(&b["id"].as_i64().unwrap())),
        ),
        (
            "abv_gt=6&hops=simcoe&food=cheese",
            Box::new(|b| {
                number(b, "abv").is_some_and(|v| v > 6.0)
                    && names(b, "hops").iter().any(|h| fuzzy(h, "simcoe"))
                    && b["food_pairing"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|f| f.as_str().unwrap().to_lowercase().contains("cheese"))
            }),
        ),
    ]
}

backend_tests! {
    #[ignore = "needs the Punk dataset at ../shared/data/punkapi: run with --include-ignored (.ci/run does)"]
    async fn the_dataset_is_served_exactly_as_punk_served_it(backend) {
        let dataset = punk_dataset();
        let app = TestApp::spawn(backend).await;
        app.import_punk_dataset().await;

        let all = app.all_pages("/v2/beers", "").await;
        assert_eq!(ids(&all), (1..=325).collect::<Vec<_>>());
        // Field for field, number for number (40 stays 40, 5.0 stays 5.0).
        for (served, original) in all.iter().zip(&dataset) {
            assert_eq!(served, original, "beer {} differs", original["id"]);
        }
        let (status, body) = app.get_json("/v2/beers/106").await;
        assert_eq!(status, 200);
        assert_eq!(body.as_array().unwrap().len(), 1);
        assert_eq!(body[0]["name"], "Punk IPA 2010 - Current");

        let (_, first_page) = app.get_json("/v2/beers").await;
        assert_eq!(ids(first_page.as_array().unwrap()), (1..=25).collect::<Vec<_>>());
        let (_, page) = app.get_json("/v2/beers?page=3&per_page=10").await;
        assert_eq!(ids(page.as_array().unwrap()), (21..=30).collect::<Vec<_>>());
        let (_, past_the_end) = app.get_json("/v2/beers?page=100").await;
        assert_eq!(past_the_end, serde_json::json!([]));

        let (status, random) = app.get_json("/v2/beers/random").await;
        assert_eq!(status, 200);
        assert_eq!(random.as_array().unwrap().len(), 1);
        assert!((1..=325).contains(&random[0]["id"].as_i64().unwrap()));
    }

    #[ignore = "needs the Punk dataset at ../shared/data/punkapi: run with --include-ignored (.ci/run does)"]
    async fn every_filter_returns_exactly_the_matching_beers(backend) {
        let dataset = punk_dataset();
        let app = TestApp::spawn(backend).await;
        app.import_punk_dataset().await;
        for (query, matches) in filter_cases() {
            let expected: Vec<i64> = dataset.iter().filter(|b| matches(b)).map(|b| b["id"].as_i64().unwrap()).collect();
            assert!(!expected.is_empty(), "{query}: the case should select something");
            assert!(expected.len() < dataset.len(), "{query}: the case should leave something out");
            let served = ids(&app.all_pages("/v2/beers", query).await);
            assert_eq!(served, expected, "/v2/beers?{query}");
            // The native API applies the same filters.
            let native = ids(&app.all_pages("/beers", query).await);
            assert_eq!(native, expected, "/beers?{query}");
        }
        // Null measurements never match a numeric filter, whichever way it points.
        let null_ibu: Vec<i64> = dataset.iter().filter(|b| b["ibu"].is_null()).map(|b| b["id"].as_i64().unwrap()).collect();
        assert!(!null_ibu.is_empty());
        let either = [ids(&app.all_pages("/v2/beers", "ibu_gt=-1").await), ids(&app.all_pages("/v2/beers", "ibu_lt=100000").await)];
        for served in either {
            assert!(null_ibu.iter().all(|id| !served.contains(id)));
            assert_eq!(served.len(), dataset.len() - null_ibu.len());
        }
        let null_ph: Vec<i64> = dataset.iter().filter(|b| b["ph"].is_null()).map(|b| b["id"].as_i64().unwrap()).collect();
        assert!(!null_ph.is_empty());
        let served = ids(&app.all_pages("/beers", "ph_gt=-1").await);
        assert!(null_ph.iter().all(|id| !served.contains(id)));
        assert_eq!(served.len(), dataset.len() - null_ph.len());
    }

    async fn bad_queries_get_punk_shaped_errors_naming_the_parameter(backend) {
        let app = TestApp::spawn(backend).await;
        for (query, param, value) in [("per_page=0", "per_page", "0"), ("per_page=81", "per_page", "81"),
                                      ("abv_gt=abc", "abv_gt", "abc"), ("brewed_before=13-2020", "brewed_before", "13-2020"),
                                      ("page=-2", "page", "-2"), ("ibu_lt=", "ibu_lt", "")] {
            let (status, body) = app.get_json(&format!("/v2/beers?{query}")).await;
            assert_eq!(status, 400, "{query}");
            assert_eq!(body["statusCode"], 400);
            assert_eq!(body["error"], "Bad Request");
            assert_eq!(body["message"], "Invalid query params");
            assert_eq!(body["data"][0]["param"], param, "{query}");
            assert_eq!(body["data"][0]["value"], value, "{query}");
            assert_eq!(body["data"][0]["location"], "query", "{query}");
            assert!(body["data"][0]["msg"].as_str().unwrap().len() > 5);
        }
        let (_, body) = app.get_json("/v2/beers?per_page=0&abv_lt=x").await;
        assert_eq!(body["data"].as_array().unwrap().len(), 2, "every bad parameter is reported");
        // Unknown parameters are ignored, as Punk did.
        assert_eq!(app.get("/v2/beers?_=123").await.status(), 200);

        for path in ["/v2/beers/abc", "/v2/beers/0", "/v2/beers/-5"] {
            let (status, body) = app.get_json(path).await;
            assert_eq!(status, 400, "{path}");
            assert_eq!(body["statusCode"], 400);
            assert_eq!(body["data"][0]["param"], "id");
            assert_eq!(body["data"][0]["location"], "params");
        }
        let (status, body) = app.get_json("/v2/beers/9999").await;
        assert_eq!(status, 404);
        assert_eq!(body, serde_json::json!({"statusCode": 404, "error": "Not Found", "message": "No beer found that matches the ID 9999"}));
    }
}
