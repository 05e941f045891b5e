//! Ingredient facets (`/hops`, `/malts`, `/yeasts`, `/foods`): beers per name, spelling variants merged, filtered
//! like the lists, paginated, cached and limited like other reads; the same answers from the read model and from
//! the database path.

use std::collections::{BTreeMap, BTreeSet};

use beer_catalog::domain::IngredientKind;
use beer_catalog::domain::ingredient_names::name_of;
use serde_json::{Value, json};

use crate::helpers::{TestApp, header, punk_dataset, sample_beer};
use crate::{backend_independent_tests, backend_tests};

type BeerIds = BTreeSet<i64>;

/// A beer with these hops and this yeast (the rest of [`sample_beer`]).
fn beer(name: &str, abv: f64, hops: &[&str], yeast: &str) -> Value {
    let mut beer = sample_beer(name);
    beer["abv"] = json!(abv);
    beer["ingredients"]["hops"] = hops
        .iter()
        .map(
            |hop| json!({"name": hop, "amount": {"value": 10, "unit": "grams"}, "add": "start", "attribute": "bitter"}),
        )
        .collect();
    beer["ingredients"]["yeast"] = json!(yeast);
    beer
}

/// Every name of a facet query, walking its pages (80 a page).
async fn all_names(app: &TestApp, path: &str, query: &str) -> Vec<Value> {
    let mut names = Vec::new();
    for page in 1.. {
        let response = app.get(&format!("{path}?{query}&per_page=80&page={page}")).await;
        assert_eq!(response.status(), 200, "{path}?{query}");
        let total: usize = header(&response, "x-total-count").unwrap().parse().unwrap();
        let items = response.json::<Value>().await.unwrap().as_array().unwrap().clone();
        if items.is_empty() {
            assert_eq!(names.len(), total, "{path}?{query}: X-Total-Count counts the names");
            break;
        }
        names.extend(items);
    }
    names
}

/// `{display name: (beers, {spelling: beers})}`, the whole answer in a comparable form.
fn summary(names: &[Value]) -> BTreeMap<String, (u64, BTreeMap<String, u64>)> {
    names
        .iter()
        .map(|name| {
            let spellings = name["spellings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s["text"].as_str().unwrap().to_owned(), s["beers"].as_u64().unwrap()))
                .collect();
            (
                name["name"].as_str().unwrap().to_owned(),
                (name["beers"].as_u64().unwrap(), spellings),
            )
        })
        .collect()
}

async fn spawn_with_variants(backend: crate::helpers::Backend, args: &[&str]) -> TestApp {
    let app = TestApp::spawn_with(backend, args, |_| {}).await;
    for (name, abv, hops, yeast) in [
        (
            "Strong Willamette",
            9.0,
            &["Willamette", "Cascade"][..],
            "Wyeast 1056 - American Ale™",
        ),
        ("Misspelt", 9.5, &["Wilamette"][..], "WY1056"),
        (
            "Both spellings",
            4.0,
            &["WILLAMETTE", "Wilamette", "Willamette"][..],
            "wyeast 1056 american ale",
        ),
        ("Plain", 5.0, &["Cascade"][..], "Safale US-05"),
    ] {
        let (status, body) = app.post_beer(&beer(name, abv, hops, yeast)).await;
        assert_eq!(status, 201, "{body}");
    }
    app
}

backend_tests! {
    async fn facets_count_beers_per_name_with_every_spelling(backend) {
        for args in [&[][..], &["--read-model", "database"][..]] {
            let app = spawn_with_variants(backend, args).await;
            let response = app.get("/hops").await;
            assert_eq!(response.status(), 200);
            assert_eq!(header(&response, "x-total-count").unwrap(), "2", "{args:?}");
            let hops: Value = response.json().await.unwrap();
            assert_eq!(
                hops,
                json!([
                    {"name": "Willamette", "key": "willamette", "beers": 3, "spellings": [
                        {"text": "wilamette", "beers": 2}, {"text": "willamette", "beers": 2}]},
                    {"name": "Cascade", "key": "cascade", "beers": 2, "spellings": [{"text": "cascade", "beers": 2}]},
                ]),
                "a beer listing two spellings counts once for the name ({args:?})"
            );
            // Filtered like the lists: the yeasts of the beers above 8% ABV.
            let yeasts: Value = app.get("/yeasts?abv_gt=8").await.json().await.unwrap();
            assert_eq!(
                yeasts,
                json!([{"name": "Wyeast 1056 - American Ale™", "key": "wyeast1056americanale", "beers": 2, "spellings": [
                    {"text": "wy1056", "beers": 1}, {"text": "wyeast 1056 - american ale™", "beers": 1}]}]),
                "{args:?}"
            );
            let (_, malts) = app.get_json("/malts?hops=cascade&abv_lt=6").await;
            assert_eq!(malts, json!([{"name": "Maris Otter", "key": "marisotter", "beers": 1, "spellings": [
                {"text": "maris otter", "beers": 1}]}]));
            let (_, foods) = app.get_json("/foods?per_page=1&page=2").await;
            assert_eq!(foods, json!([{"name": "Spicy tacos", "key": "spicytacos", "beers": 4, "spellings": [
                {"text": "spicy tacos", "beers": 4}]}]), "sorted by beers, then name; paged");
            let (_, none) = app.get_json("/hops?beer_name=zzzz").await;
            assert_eq!(none, json!([]));
            // The stored documents keep their spelling.
            let (_, misspelt) = app.get_json("/beers?beer_name=misspelt").await;
            assert_eq!(misspelt[0]["ingredients"]["hops"][0]["name"], "Wilamette");
        }
    }

    async fn facets_of_the_punk_dataset_match_a_count_over_its_documents(backend) {
        let app = TestApp::spawn(backend).await;
        app.import_punk_dataset().await;
        let dataset = punk_dataset();
        for (path, kind, query, strong_only) in [
            ("/hops", IngredientKind::Hop, "abv_gt=8", true),
            ("/hops", IngredientKind::Hop, "", false),
            ("/malts", IngredientKind::Malt, "", false),
            ("/yeasts", IngredientKind::Yeast, "", false),
            ("/foods", IngredientKind::Food, "", false),
        ] {
            // The reference: each beer's texts of this kind (lower-cased, as searched), grouped by name.
            let mut expected: BTreeMap<String, (BeerIds, BTreeMap<String, BeerIds>)> = BTreeMap::new();
            for beer in &dataset {
                if strong_only && beer["abv"].as_f64().is_none_or(|abv| abv <= 8.0) {
                    continue;
                }
                let id = beer["id"].as_i64().unwrap();
                let texts: Vec<String> = match kind {
                    IngredientKind::Hop => beer["ingredients"]["hops"].as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap().to_owned()).collect(),
                    IngredientKind::Malt => beer["ingredients"]["malt"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_owned()).collect(),
                    IngredientKind::Yeast => beer["ingredients"]["yeast"].as_str().map(str::to_owned).into_iter().collect(),
                    IngredientKind::Food => beer["food_pairing"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned()).collect(),
                };
                for text in texts.into_iter().filter(|t| !t.is_empty()) {
                    let (key, _) = name_of(kind, &text);
                    let entry = expected.entry(key).or_default();
                    entry.0.insert(id);
                    entry.1.entry(text.to_lowercase()).or_default().insert(id);
                }
            }
            let names = all_names(&app, path, query).await;
            let served: BTreeMap<String, (u64, BTreeMap<String, u64>)> = names
                .iter()
                .map(|n| (n["key"].as_str().unwrap().to_owned(), summary(std::slice::from_ref(n)).into_values().next().unwrap()))
                .collect();
            let expected: BTreeMap<String, (u64, BTreeMap<String, u64>)> = expected
                .into_iter()
                .map(|(key, (beers, spellings))| {
                    (key, (beers.len() as u64, spellings.into_iter().map(|(t, ids)| (t, ids.len() as u64)).collect()))
                })
                .collect();
            assert_eq!(served, expected, "{path}?{query}");
            let counts: Vec<u64> = names.iter().map(|n| n["beers"].as_u64().unwrap()).collect();
            assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{path}: most used first");
        }
        // The dataset's known misspellings and spacings come out merged.
        let hops = summary(&all_names(&app, "/hops", "").await);
        assert_eq!(hops["Cacao Nibs"].1.keys().collect::<Vec<_>>(), ["cacao nibs", "cacoa nibs"]);
        assert_eq!(hops["CO2 Extract"].1.keys().collect::<Vec<_>>(), ["c02 extract", "co2 extract"]);
        assert_eq!(hops["Coffee Beans"].1.keys().collect::<Vec<_>>(), ["coffee beans"], "case variants are one");
    }

    async fn facets_follow_writes(backend) {
        let app = TestApp::spawn(backend).await;
        let (_, before) = app.get_json("/hops").await;
        assert_eq!(before, json!([]));
        let (status, _) = app.post_beer(&beer("New", 6.0, &["Nelson Sauvin"], "WLP099 - Super High Gravity Ale")).await;
        assert_eq!(status, 201);
        crate::helpers::within_bound("the new hop in /hops", || async {
            app.get_json("/hops").await.1 == json!([{"name": "Nelson Sauvin", "key": "nelsonsauvin", "beers": 1,
                "spellings": [{"text": "nelson sauvin", "beers": 1}]}])
        })
        .await;
        let (_, yeasts) = app.get_json("/yeasts").await;
        assert_eq!(yeasts[0]["name"], "WLP099 - Super High Gravity Ale");
        // A replaced beer's old hop is gone (a patched index still holds the text, used by no beer).
        let (status, created) = app.post_beer(&beer("Other", 5.0, &["Saaz"], "Safale US-05")).await;
        assert_eq!(status, 201);
        let path = format!("/beers/{}", created["id"]);
        let replaced = beer("Other", 5.0, &["Hallertau Mittelfrueh"], "Safale US-05");
        assert_eq!(app.send_json(reqwest::Method::PUT, &path, None, &replaced).await.status(), 200);
        crate::helpers::within_bound("the replaced hop in /hops", || async {
            let names: Vec<Value> = app.get_json("/hops").await.1.as_array().unwrap().iter().map(|n| n["name"].clone()).collect();
            names == [json!("Hallertauer Mittelfrüh"), json!("Nelson Sauvin")]
        })
        .await;
    }
}

backend_independent_tests! {
    async fn facets_refuse_bad_parameters_and_sort(backend) {
        let app = TestApp::spawn(backend).await;
        for query in ["sort=abv", "colour=red", "per_page=0", "per_page=81", "abv_gt=strong", "page=0"] {
            for path in ["/hops", "/malts", "/yeasts", "/foods"] {
                let response = app.get(&format!("{path}?{query}")).await;
                assert_eq!(response.status(), 400, "{path}?{query}");
                assert_eq!(header(&response, "content-type").unwrap(), "application/problem+json");
                let problem: Value = response.json().await.unwrap();
                let param = query.split('=').next().unwrap();
                assert_eq!(problem["errors"][0]["field"], param, "{path}?{query}: {problem}");
            }
        }
    }

    async fn facets_are_cached_public_reads_with_etags_and_links(backend) {
        let app = spawn_with_variants(backend, &["--rate-limit-per-hour", "100"]).await;
        let response = app.get("/hops?per_page=1").await;
        assert!(header(&response, "cache-control").unwrap().starts_with("public"));
        assert!(header(&response, "x-ratelimit-remaining").is_some(), "counted like other reads");
        assert!(header(&response, "link").unwrap().contains("</hops?page=2&per_page=1>; rel=\"next\""));
        let etag = header(&response, "etag").unwrap();
        let again = app
            .client
            .get(app.url("/hops?per_page=1"))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
    }
}
