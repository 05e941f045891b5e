use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, sample_beer};
use crate::{backend_independent_tests, backend_tests};

fn problem_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().map(|f| f["field"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

backend_tests! {
    async fn create_read_replace_delete(backend) {
        let app = TestApp::spawn(backend).await;
        let response = app.send_json(Method::POST, "/beers", None, &sample_beer("Test Pale")).await;
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let created: Value = response.json().await.unwrap();
        let id = created["id"].as_i64().unwrap();
        assert_eq!(location, format!("/beers/{id}"));
        assert_eq!(created["name"], "Test Pale");
        assert_eq!(created["abv"], 5.5);
        assert_eq!(created["created_at"], created["updated_at"]);

        let (status, fetched) = app.get_json(&location).await;
        assert_eq!(status, 200);
        assert_eq!(fetched, created, "what was stored is what was returned");

        let mut changed = sample_beer("Test Pale Mk II");
        changed["abv"] = json!(6.0);
        let response = app.send_json(Method::PUT, &location, None, &changed).await;
        assert_eq!(response.status(), 200);
        let replaced: Value = response.json().await.unwrap();
        assert_eq!(replaced["name"], "Test Pale Mk II");
        assert_eq!(replaced["created_at"], created["created_at"]);
        assert_ne!(replaced["updated_at"], created["updated_at"]);
        assert_eq!(app.get_json(&location).await.1["abv"].to_string(), "6.0");

        let response = app.client.delete(app.url(&location)).send().await.unwrap();
        assert_eq!(response.status(), 204);
        assert_eq!(app.get(&location).await.status(), 404);
        assert_eq!(app.client.delete(app.url(&location)).send().await.unwrap().status(), 404);
        assert_eq!(app.send_json(Method::PUT, &location, None, &changed).await.status(), 404);
    }

    async fn the_v2_surface_shows_the_punk_shape(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, created) = app.post_beer(&sample_beer("Shape Check")).await;
        let (status, body) = app.get_json(&format!("/v2/beers/{}", created["id"])).await;
        assert_eq!(status, 200);
        let beer = &body.as_array().unwrap()[0];
        assert!(beer.get("created_at").is_none() && beer.get("updated_at").is_none());
        for field in ["id", "name", "tagline", "first_brewed", "description", "image_url", "abv", "ibu", "target_fg",
                      "target_og", "ebc", "srm", "ph", "attenuation_level", "volume", "boil_volume", "method",
                      "ingredients", "food_pairing", "brewers_tips", "contributed_by"] {
            assert!(beer.get(field).is_some(), "missing {field}");
        }
    }

    async fn bad_ids_are_400_and_missing_ids_404(backend) {
        let app = TestApp::spawn(backend).await;
        for path in ["/beers/abc", "/beers/0", "/beers/-1", "/beers/1.5"] {
            let (status, body) = app.get_json(path).await;
            assert_eq!(status, 400, "{path}");
            assert_eq!(problem_fields(&body), ["id"], "{path}");
        }
        let (status, body) = app.get_json("/beers/999999").await;
        assert_eq!(status, 404);
        assert_eq!(body["detail"], "no beer with id 999999");
        let (status, body) = app.get_json("/beers/random").await;
        assert_eq!((status, body["detail"].as_str()), (404, Some("the catalog is empty")));
    }

    async fn list_paginates_with_headers(backend) {
        let app = TestApp::spawn(backend).await;
        for i in 1..=7 {
            let mut beer = sample_beer(&format!("Beer {i}"));
            if i % 2 == 0 {
                beer["style"] = json!("Imperial Stout");
            }
            assert_eq!(app.post_beer(&beer).await.0, 201);
        }
        let response = app.get("/beers?per_page=3&page=2&style=stout").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-total-count"], "3");
        let link = response.headers()["link"].to_str().unwrap().to_owned();
        assert!(link.contains(r#"</beers?page=1&per_page=3&style=stout>; rel="first""#), "{link}");
        assert!(link.contains(r#"rel="prev""#) && !link.contains(r#"rel="next""#), "{link}");
        let body: Vec<Value> = response.json().await.unwrap();
        assert!(body.is_empty(), "page 2 of a 3-item result is empty");

        let response = app.get("/beers?per_page=3").await;
        assert_eq!(response.headers()["x-total-count"], "7");
        let link = response.headers()["link"].to_str().unwrap().to_owned();
        assert!(link.contains(r#"</beers?page=2&per_page=3>; rel="next""#), "{link}");
        assert!(link.contains(r#"</beers?page=3&per_page=3>; rel="last""#), "{link}");
        let ids: Vec<i64> = response.json::<Vec<Value>>().await.unwrap().iter().map(|b| b["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [1, 2, 3]);

        let all: Vec<Value> = app.get("/beers").await.json().await.unwrap();
        assert_eq!(all.len(), 7);
        let (status, random) = app.get_json("/beers/random").await;
        assert_eq!(status, 200);
        assert!(random["name"].as_str().unwrap().starts_with("Beer "));
    }

    async fn deleted_ids_are_not_reused(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, first) = app.post_beer(&sample_beer("One")).await;
        let (_, second) = app.post_beer(&sample_beer("Two")).await;
        app.client.delete(app.url(&format!("/beers/{}", second["id"]))).send().await.unwrap();
        let (_, third) = app.post_beer(&sample_beer("Three")).await;
        assert!(third["id"].as_i64() > second["id"].as_i64(), "{first} {second} {third}");
    }
}

// Validation and body parsing answer before the store is touched: once is enough.
backend_independent_tests! {
    async fn invalid_beers_are_rejected_field_by_field(backend) {
        let app = TestApp::spawn(backend).await;
        let mut beer = sample_beer("");
        beer["abv"] = json!(101);
        beer["ph"] = json!(15);
        beer["ibu"] = json!(-3);
        beer["first_brewed"] = json!("2015-04");
        beer["image_url"] = json!("not a url");
        let response = app.send_json(Method::POST, "/beers", None, &beer).await;
        assert_eq!(response.status(), 422);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let body: Value = response.json().await.unwrap();
        assert_eq!(problem_fields(&body), ["name", "first_brewed", "image_url", "abv", "ibu", "ph"]);
        let long_name = "x".repeat(201);
        let (status, body) = app.post_beer(&sample_beer(&long_name)).await;
        assert_eq!((status, problem_fields(&body)), (422, vec!["name".to_owned()]));
        assert_eq!(app.catalog.reads().count(&Default::default()).await.unwrap(), 0, "nothing was written");
    }

    async fn malformed_or_misshapen_bodies_say_what_to_fix(backend) {
        let app = TestApp::spawn(backend).await;
        // Malformed JSON: 400.
        let response = app.client.post(app.url("/beers")).header("content-type", "application/json").body("{\"name\": ").send().await.unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().starts_with("malformed JSON"), "{body}");
        // Unknown field: 422 naming it.
        let mut beer = sample_beer("Typo");
        beer["ibus"] = json!(40);
        let (status, body) = app.post_beer(&beer).await;
        assert_eq!((status, problem_fields(&body)), (422, vec!["ibus".to_owned()]), "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().starts_with("unknown field `ibus`"), "{body}");
        // Wrong type: 422 naming it.
        let (status, body) = app.post_beer(&json!({"name": "X", "abv": "5.0%"})).await;
        assert_eq!((status, problem_fields(&body)), (422, vec!["abv".to_owned()]), "{body}");
        // Missing required field.
        let (status, body) = app.post_beer(&json!({"name": "No ABV"})).await;
        assert_eq!((status, problem_fields(&body)), (422, vec!["abv".to_owned()]), "{body}");
        assert_eq!(body["errors"][0]["message"], "is required", "{body}");
        // Every wrong field in one answer, as rule violations are (serde alone names only the first).
        let (status, body) = app.post_beer(&json!({"name": 5, "abv": "x"})).await;
        assert_eq!((status, problem_fields(&body)), (422, vec!["abv".to_owned(), "name".to_owned()]), "{body}");
        let (status, body) = app.post_beer(&json!({})).await;
        assert_eq!((status, problem_fields(&body)), (422, vec!["abv".to_owned(), "name".to_owned()]), "{body}");
        let mut beer = sample_beer("Deep");
        beer["ingredients"]["hops"][0]["amount"]["value"] = json!("thirty");
        beer["food_pairing"] = json!("cheese");
        let response = app.send_json(Method::PUT, "/beers/1", None, &beer).await;
        assert_eq!(response.status(), 422, "the shape is checked before the beer is looked up");
        let body: Value = response.json().await.unwrap();
        assert_eq!(problem_fields(&body), ["food_pairing", "ingredients.hops[0].amount.value"], "{body}");
        // Not JSON at all: 415.
        let response = app.client.post(app.url("/beers")).header("content-type", "text/plain").body("name=x").send().await.unwrap();
        assert_eq!(response.status(), 415);
        let body: Value = response.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains("Content-Type: application/json"), "{body}");
        // Too large: 413.
        let mut huge = sample_beer("Huge");
        huge["description"] = json!("x".repeat(70 * 1024));
        let response = app.send_json(Method::POST, "/beers", None, &huge).await;
        assert_eq!(response.status(), 413);
        let body: Value = response.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains("65536"), "{body}");
        assert_eq!(app.catalog.reads().count(&Default::default()).await.unwrap(), 0);
    }

    async fn list_rejects_bad_and_unknown_parameters(backend) {
        let app = TestApp::spawn(backend).await;
        for (query, param) in [("per_page=0", "per_page"), ("per_page=81", "per_page"), ("page=0", "page"),
                               ("abv_gt=abc", "abv_gt"), ("brewed_before=13-2020", "brewed_before"),
                               ("ids=1|two", "ids"), ("per-page=10", "per-page")] {
            let response = app.get(&format!("/beers?{query}")).await;
            assert_eq!(response.status(), 400, "{query}");
            assert_eq!(response.headers()["content-type"], "application/problem+json");
            let body: Value = response.json().await.unwrap();
            assert_eq!(problem_fields(&body), [param], "{query}");
        }
    }
}
