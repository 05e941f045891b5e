//! Catalog scale (issue 11): a generated catalog of a few thousand beers, imported by the binary as an operator
//! would, then every filter checked against a reference evaluation of the filter definitions written here, apart
//! from the service's code, through both read paths (the in-process read model and the database's SQL).

use std::sync::Arc;

use beer_catalog::domain::{ListQuery, Surface, parse_list_query};
use beer_catalog::storage::{self, CatalogReads, ReadModel};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{TestApp, TestDatabase, beer_catalog, beer_catalog_on, config_for, wait_until_current};

const BEERS: u64 = 3_000;

fn temp_file(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{name}-{}.json", uuid::Uuid::new_v4()))
}

/// The needle's characters in this order, case-insensitively, underscores meaning spaces.
fn fuzzy(haystack: &str, needle: &str) -> bool {
    let haystack: Vec<char> = haystack.to_lowercase().chars().collect();
    let mut at = 0;
    for wanted in needle.replace('_', " ").to_lowercase().chars() {
        match haystack[at..].iter().position(|c| *c == wanted) {
            Some(found) => at += found + 1,
            None => return false,
        }
    }
    true
}

fn contains(haystack: &str, needle: &str) -> bool {
    haystack
        .to_lowercase()
        .contains(&needle.replace('_', " ").to_lowercase())
}

/// `first_brewed` (`MM/YYYY` or `YYYY` = January) as a month count, comparable with `MM-YYYY` filters.
fn brewed(beer: &Value) -> Option<i64> {
    let text = beer["first_brewed"].as_str()?;
    let (month, year) = text.split_once('/').unwrap_or(("1", text));
    Some(year.parse::<i64>().ok()? * 12 + month.parse::<i64>().ok()? - 1)
}

fn month(mm_yyyy: &str) -> i64 {
    let (m, y) = mm_yyyy.split_once('-').unwrap();
    y.parse::<i64>().unwrap() * 12 + m.parse::<i64>().unwrap() - 1
}

fn names(beer: &Value, kind: &str) -> Vec<String> {
    beer["ingredients"][kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Whether `beer` satisfies one `param=value` of a query, by the documented definition of each filter.
fn satisfies(beer: &Value, param: &str, value: &str) -> bool {
    let number = |field: &str| beer[field].as_f64();
    let bound = || value.parse::<f64>().unwrap();
    match param {
        "abv_gt" | "ibu_gt" | "ebc_gt" | "ph_gt" => number(&param[..param.len() - 3]).is_some_and(|v| v > bound()),
        "abv_lt" | "ibu_lt" | "ebc_lt" | "ph_lt" => number(&param[..param.len() - 3]).is_some_and(|v| v < bound()),
        "brewed_before" => brewed(beer).is_some_and(|m| m < month(value)),
        "brewed_after" => brewed(beer).is_some_and(|m| m > month(value)),
        "beer_name" => fuzzy(beer["name"].as_str().unwrap(), value),
        "yeast" => beer["ingredients"]["yeast"].as_str().is_some_and(|y| fuzzy(y, value)),
        "hops" => names(beer, "hops").iter().any(|h| fuzzy(h, value)),
        "malt" => names(beer, "malt").iter().any(|m| fuzzy(m, value)),
        "food" => beer["food_pairing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| contains(f.as_str().unwrap(), value)),
        "style" => beer["style"].as_str().is_some_and(|s| contains(s, value)),
        "ids" => value.split('|').any(|id| beer["id"].as_i64() == id.parse().ok()),
        other => panic!("no reference for {other}"),
    }
}

fn expected_ids(catalog: &[Value], query: &str) -> Vec<i64> {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    catalog
        .iter()
        .filter(|beer| params.iter().all(|(param, value)| satisfies(beer, param, value)))
        .map(|beer| beer["id"].as_i64().unwrap())
        .collect()
}

/// The filter table of issue 11, every single filter, edge cases of the text matching, and combinations.
const CASES: &[&str] = &[
    "",
    "abv_gt=12",
    "abv_lt=4.5",
    "ibu_gt=100",
    "ibu_lt=20",
    "ebc_gt=100",
    "ebc_lt=10.5",
    "ph_gt=4.5",
    "ph_lt=4",
    "ph_gt=4.3&ph_lt=4.5&abv_gt=6",
    "brewed_before=01-2008",
    "brewed_after=06-2016",
    "brewed_after=01-2010&brewed_before=01-2011",
    "beer_name=punk",
    "beer_name=pnk",
    "beer_name=zzzz",
    "beer_name=100%25",
    "beer_name=half_way",
    "beer_name=caf%C3%A9",
    "beer_name=%C3%BCber",
    "yeast=wyeast",
    "yeast=wyeast_1056",
    "hops=cascade",
    "hops=nelson_sauvin",
    "malt=munich",
    "malt=extra",
    "food=cheese",
    "food=spicy_chicken",
    "style=ipa",
    "ids=1|17|2999|3000|4000",
    "food=cheese&abv_gt=8",
    "abv_gt=6&hops=simcoe&food=cheese",
    "ibu_gt=30&ibu_lt=60&brewed_after=01-2012&malt=extra&yeast=american",
    "beer_name=o&hops=a&malt=a&food=e&abv_lt=7&ebc_gt=5",
];

/// Orders of the native API's `sort`, each checked over a few filters.
const SORTS: &[&str] = &[
    "abv:desc",
    "name",
    "name:desc,abv",
    "ibu,ebc:desc",
    "ph:desc,first_brewed",
    "first_brewed:desc,name:desc",
    "id:desc",
    "abv,id:desc",
];
const SORTED_FILTERS: &[&str] = &[
    "",
    "food=cheese",
    "ph_lt=4.4&abv_gt=5",
    "beer_name=pnk&ids=1|3|17|29|2999",
];

/// A beer's value of a sort field: `None` when it has none (sorted last either way).
fn sort_value(beer: &Value, field: &str) -> Option<Result<f64, String>> {
    match field {
        "id" => beer["id"].as_f64().map(Ok),
        "name" => Some(Err(beer["name"].as_str().unwrap().to_lowercase())),
        "first_brewed" => brewed(beer).map(|m| Ok(m as f64)),
        number => beer[number].as_f64().map(Ok),
    }
}

/// The catalog's ids matching `raw`, in the order `sort` defines: each key's missing values last whichever the
/// direction, names compared byte by byte, ties by ascending id.
fn expected_sorted(catalog: &[Value], raw: &str, sort: &str) -> Vec<i64> {
    let matching = expected_ids(catalog, raw);
    let mut beers: Vec<&Value> = catalog
        .iter()
        .filter(|b| matching.contains(&b["id"].as_i64().unwrap()))
        .collect();
    beers.sort_by(|a, b| {
        let mut order = std::cmp::Ordering::Equal;
        for key in sort.split(',') {
            let (field, direction) = key.split_once(':').unwrap_or((key, "asc"));
            let next = match (sort_value(a, field), sort_value(b, field)) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(_), None) => std::cmp::Ordering::Less,
                (Some(x), Some(y)) => {
                    let o = match (x, y) {
                        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap(),
                        (Err(x), Err(y)) => x.as_bytes().cmp(y.as_bytes()),
                        _ => unreachable!("a field is a number or a text"),
                    };
                    if direction == "desc" { o.reverse() } else { o }
                }
            };
            order = order.then(next);
        }
        order.then(a["id"].as_i64().cmp(&b["id"].as_i64()))
    });
    beers.into_iter().map(|b| b["id"].as_i64().unwrap()).collect()
}

fn query(raw: &str, page: u32, per_page: u32) -> ListQuery {
    let mut query = parse_list_query(Some(raw), Surface::Native).unwrap();
    query.page = page;
    query.per_page = per_page;
    query
}

async fn all_ids(store: &dyn CatalogReads, raw: &str) -> Vec<i64> {
    // One page as large as the catalog: the store is asked directly, below the API's 80-per-page limit.
    let beers = store.list(&query(raw, 1, BEERS as u32 + 10)).await.unwrap();
    beers.iter().map(|b| b.id).collect()
}

/// A generated catalog of `count` beers from `first_id`, as the import format.
fn generated(count: u64, first_id: i64) -> Vec<u8> {
    let mut out = Vec::new();
    beer_catalog::commands::generate::write_catalog(&mut out, count, first_id, 5).unwrap();
    out
}

/// The generated records of `text` with `extra` records spliced in after the first `at`.
fn with_records_at(text: &[u8], at: usize, extra: &[Value]) -> Vec<u8> {
    let mut records: Vec<Value> = serde_json::from_slice(text).unwrap();
    for (offset, record) in extra.iter().enumerate() {
        records.insert(at + offset, record.clone());
    }
    serde_json::to_vec(&records).unwrap()
}

async fn seeded_with_50(database: &TestDatabase) -> storage::DynDatabase {
    let file = temp_file("seed");
    std::fs::write(&file, generated(50, 1)).unwrap();
    let output = beer_catalog(&database.url, &["import", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    assert!(output.status.success(), "{output:?}");
    let config = config_for(&database.url, &[]);
    storage::connect(&config.database, &config.store).await.unwrap()
}

/// Every stored column of beer `id` but its timestamps, as text (the database's own rendering of each value), and
/// its term rows: what two writes of the same fields must agree on.
async fn stored_row(database_url: &str, id: i64) -> (Vec<Option<String>>, Vec<(String, String)>) {
    use sqlx::Connection;
    const COLUMNS: &str = "CAST(name AS TEXT), CAST(name_search AS TEXT), CAST(style_search AS TEXT), \
        CAST(yeast_search AS TEXT), CAST(abv AS TEXT), CAST(ibu AS TEXT), CAST(ebc AS TEXT), CAST(ph AS TEXT), \
        CAST(first_brewed_month AS TEXT), CAST(document AS TEXT), CAST(rendered AS TEXT), CAST(image_sha256 AS TEXT)";
    let beer = format!("SELECT {COLUMNS} FROM beers WHERE id = {id}");
    let terms = format!("SELECT kind, term FROM beer_terms WHERE beer_id = {id} ORDER BY kind, term");
    macro_rules! read {
        ($connection:ty) => {{
            let mut connection = <$connection>::connect(database_url).await.unwrap();
            let row = sqlx::query(&beer).fetch_one(&mut connection).await.unwrap();
            let values = (0..12).map(|i| sqlx::Row::get::<Option<String>, _>(&row, i)).collect();
            let terms = sqlx::query_as(&terms).fetch_all(&mut connection).await.unwrap();
            (values, terms)
        }};
    }
    if database_url.starts_with("sqlite:") {
        read!(sqlx::SqliteConnection)
    } else {
        read!(sqlx::PgConnection)
    }
}

backend_tests! {
    async fn every_filter_over_a_generated_catalog_matches_the_reference_on_both_read_paths(backend) {
        let database = Arc::new(TestDatabase::create(backend).await);
        let file = temp_file("generated");
        let path = file.to_str().unwrap();
        let output = beer_catalog(&database.url, &["generate", &BEERS.to_string(), "--seed", "11", "--output", path]);
        assert!(output.status.success(), "{output:?}");
        let catalog: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(catalog.len(), BEERS as usize);

        // The generator's output imports cleanly: nothing skipped, nothing warned about.
        let memory_app = TestApp::spawn_on(database.clone(), &[], |_| {}).await;
        let output = beer_catalog(&database.url, &["import", path]);
        let _ = std::fs::remove_file(&file);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(String::from_utf8_lossy(&output.stdout), format!("imported {BEERS}, skipped 0\n"));

        let database_app = TestApp::spawn_on(database.clone(), &["--read-model", "database"], |_| {}).await;
        let config = config_for(&database.url, &[]);
        let inner = storage::connect(&config.database, &config.store).await.unwrap();
        let indexed = ReadModel::start(inner.clone(), None, 0);
        wait_until_current(&indexed).await;
        let sql = storage::connect(&config.database, &config.store).await.unwrap();

        for raw in CASES {
            let expected = expected_ids(&catalog, raw);
            assert_eq!(all_ids(indexed.as_ref(), raw).await, expected, "read model: {raw}");
            assert_eq!(all_ids(sql.as_ref(), raw).await, expected, "database: {raw}");
            let filter = &query(raw, 1, 1).filter;
            assert_eq!(indexed.count(filter).await.unwrap(), expected.len() as u64, "read model count: {raw}");
            assert_eq!(sql.count(filter).await.unwrap(), expected.len() as u64, "database count: {raw}");

            // Through the API of each server: the second page, and the total the native API reports.
            let second_page: Vec<i64> = expected.iter().skip(80).take(80).copied().collect();
            for app in [&memory_app, &database_app] {
                let separator = if raw.is_empty() { "" } else { "&" };
                let response = app.get(&format!("/beers?{raw}{separator}page=2&per_page=80")).await;
                assert_eq!(response.status(), 200, "/beers?{raw}");
                let total = response.headers()["x-total-count"].to_str().unwrap().to_owned();
                assert_eq!(total, expected.len().to_string(), "X-Total-Count of /beers?{raw}");
                let body: Vec<Value> = response.json().await.unwrap();
                assert_eq!(body.iter().map(|b| b["id"].as_i64().unwrap()).collect::<Vec<_>>(), second_page, "/beers?{raw}");
                if !raw.contains("style") {
                    let (_, body) = app.get_json(&format!("/v2/beers?{raw}{separator}page=2&per_page=80")).await;
                    let served: Vec<i64> = body.as_array().unwrap().iter().map(|b| b["id"].as_i64().unwrap()).collect();
                    assert_eq!(served, second_page, "/v2/beers?{raw}");
                }
            }
        }
        // Every order, through both read paths and both servers' native API (a page in the middle).
        for raw in SORTED_FILTERS {
            for sort in SORTS {
                let expected = expected_sorted(&catalog, raw, sort);
                let with_sort = if raw.is_empty() { format!("sort={sort}") } else { format!("{raw}&sort={sort}") };
                assert_eq!(all_ids(indexed.as_ref(), &with_sort).await, expected, "read model: {with_sort}");
                assert_eq!(all_ids(sql.as_ref(), &with_sort).await, expected, "database: {with_sort}");
                let third_page: Vec<i64> = expected.iter().skip(160).take(80).copied().collect();
                for app in [&memory_app, &database_app] {
                    let (_, body) = app.get_json(&format!("/beers?{with_sort}&page=3&per_page=80")).await;
                    let served: Vec<i64> = body.as_array().unwrap().iter().map(|b| b["id"].as_i64().unwrap()).collect();
                    assert_eq!(served, third_page, "/beers?{with_sort}");
                }
            }
        }
        // The import's timestamps are not in the catalog: the two read paths agree with each other.
        for sort in ["created_at,updated_at:desc", "updated_at:desc,abv", "created_at:desc"] {
            let with_sort = format!("food=e&sort={sort}");
            let from_sql = all_ids(sql.as_ref(), &with_sort).await;
            assert_eq!(from_sql.len(), expected_ids(&catalog, "food=e").len());
            assert_eq!(all_ids(indexed.as_ref(), &with_sort).await, from_sql, "read model: {with_sort}");
        }

        // The deepest page, and one past it.
        let (_, last) = memory_app.get_json("/v2/beers?per_page=80&page=38").await;
        assert_eq!(last.as_array().unwrap().iter().map(|b| b["id"].as_i64().unwrap()).collect::<Vec<_>>(), (2961..=3000).collect::<Vec<_>>());
        let (_, past) = memory_app.get_json("/v2/beers?per_page=80&page=39").await;
        assert_eq!(past, serde_json::json!([]));

        // Round trip: every generated beer is served exactly as generated, field for field.
        let served = memory_app.all_pages("/v2/beers", "").await;
        assert_eq!(served.len(), catalog.len());
        for (served, generated) in served.iter().zip(&catalog) {
            assert_eq!(served, generated, "beer {} differs", generated["id"]);
        }

        // A write through either server is seen by the other's read model within the bound.
        let id = catalog[0]["id"].as_i64().unwrap();
        let deleted = database_app.client.delete(database_app.url(&format!("/beers/{id}"))).send().await.unwrap();
        assert_eq!(deleted.status(), 204);
        let remaining = (BEERS - 1).to_string();
        let counted = || async { memory_app.get("/beers?per_page=1").await.headers()["x-total-count"] == remaining.as_str() };
        crate::helpers::within_bound("the deletion through the other server", counted).await;
        let (_, body) = memory_app.get_json("/beers?per_page=1").await;
        assert_ne!(body[0]["id"].as_i64(), Some(id));
        let (status, _) = memory_app.get_json(&format!("/v2/beers/{id}")).await;
        assert_eq!(status, 404, "the deleted beer is gone from the read model's copies too");
        inner.close().await;
        sql.close().await;
    }

    async fn all_or_nothing_reports_every_bad_record_and_writes_nothing(backend) {
        let database = TestDatabase::create(backend).await;
        let store = seeded_with_50(&database).await;
        let before = store.list(&query("", 1, 80)).await.unwrap();
        // Bad records after the first 4,500: by then batches of valid ones have been written in the transaction.
        let bad = [
            serde_json::json!({"id": 9001, "name": "No ABV"}),
            serde_json::json!({"id": 9002, "name": "Typo", "abv": 5, "ibus": 10}),
            serde_json::json!({"id": 60, "name": "Same id again", "abv": 5}),
        ];
        let file = temp_file("bad");
        std::fs::write(&file, with_records_at(&generated(5_000, 51), 4_500, &bad)).unwrap();
        let output = beer_catalog(&database.url, &["import", "--all-or-nothing", file.to_str().unwrap()]);
        let _ = std::fs::remove_file(&file);
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(report.starts_with("imported 0, skipped 3\nnothing written: 3 records are invalid"), "{report}");
        assert!(report.contains("skipped record #4501 (id 9001, \"No ABV\"): missing field `abv`"), "{report}");
        assert!(report.contains("skipped record #4502 (id 9002, \"Typo\"): unknown field `ibus`"), "{report}");
        assert!(report.contains("skipped record #4503 (id 60, \"Same id again\"): id 60 appears again (first at record #10)"), "{report}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("import: written"), "batches were written before the bad records: {output:?}");
        assert_eq!(store.count(&Default::default()).await.unwrap(), 50);
        assert_eq!(store.list(&query("", 1, 80)).await.unwrap(), before, "the catalog is as it was");
        store.close().await;
    }

    async fn an_import_killed_midway_leaves_the_catalog_as_it_was(backend) {
        use std::io::{BufRead, Write};
        let database = TestDatabase::create(backend).await;
        let store = seeded_with_50(&database).await;
        let before = store.list(&query("", 1, 80)).await.unwrap();
        let version = store.catalog_version().await.unwrap();
        let mut child = beer_catalog_on(&database.url)
            .args(["import", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Half an array (an upsert of the seeded ids and new ones), and no end: the import cannot finish by itself.
        let text = generated(5_000, 1);
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&text[..text.len() - 3]).unwrap();
        stdin.flush().unwrap();
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while !line.contains("import: written") {
            line.clear();
            assert!(stderr.read_line(&mut line).unwrap() > 0, "the import ended before writing anything");
        }
        // Rows are written inside the open transaction: now the process dies without a chance to clean up.
        child.kill().unwrap();
        child.wait().unwrap();
        drop(stdin);

        assert_eq!(store.count(&Default::default()).await.unwrap(), 50);
        assert_eq!(store.list(&query("", 1, 80)).await.unwrap(), before, "the catalog is as it was");
        assert_eq!(store.catalog_version().await.unwrap(), version, "no change was ever visible");
        // And the database takes the next import as usual.
        let file = temp_file("after-kill");
        std::fs::write(&file, generated(100, 1)).unwrap();
        let output = beer_catalog(&database.url, &["import", file.to_str().unwrap()]);
        let _ = std::fs::remove_file(&file);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(store.count(&Default::default()).await.unwrap(), 100);
        store.close().await;
    }
    async fn the_import_fast_path_stores_what_a_write_through_the_api_stores(backend) {
        let database = TestDatabase::create(backend).await;
        let config = config_for(&database.url, &[]);
        let store = storage::connect(&config.database, &config.store).await.unwrap();
        store.migrate().await.unwrap();
        // Text COPY must escape (tab, line breaks, backslashes), non-ASCII letters, numbers written as integers
        // and as decimals, nulls, a repeated hop (one term row), a year-only first_brewed.
        let mut beer = crate::helpers::sample_beer("Tab\there \\ Ærø");
        beer["description"] = serde_json::json!("Line one\nline two\r\n\ttabbed \\ back \"quoted\" \\N not null");
        beer["food_pairing"] = serde_json::json!(["Tacos\twith tab", "Back\\slash", "Crème brûlée"]);
        beer["ingredients"]["hops"] = serde_json::json!([
            {"name": "Citra", "amount": {"value": 30, "unit": "grams"}, "add": "start", "attribute": "bitter"},
            {"name": "CITRA", "amount": {"value": 30, "unit": "grams"}, "add": "end", "attribute": "aroma"}
        ]);
        beer["abv"] = serde_json::json!(5.0);
        beer["ph"] = Value::Null;
        beer["ibu"] = serde_json::json!(1e-7);
        beer["first_brewed"] = serde_json::json!("2016");
        beer.as_object_mut().unwrap().remove("style");
        let fields = serde_json::from_value(beer.clone()).unwrap();
        let created = store.create(&fields).await.unwrap();
        let version = store.catalog_version().await.unwrap();

        beer["id"] = serde_json::json!(1000);
        let file = temp_file("same-fields");
        std::fs::write(&file, serde_json::to_vec(&[&beer]).unwrap()).unwrap();
        let output = beer_catalog(&database.url, &["import", file.to_str().unwrap()]);
        let _ = std::fs::remove_file(&file);
        assert!(output.status.success(), "{output:?}");

        let (api, api_terms) = stored_row(&database.url, created.id).await;
        let (imported, imported_terms) = stored_row(&database.url, 1000).await;
        assert_eq!(imported, api);
        assert_eq!(imported_terms, api_terms);
        assert!(api_terms.contains(&("food".to_owned(), "tacos\twith tab".to_owned())), "{api_terms:?}");
        assert!(store.catalog_version().await.unwrap() > version, "the import moved the change signal");
        let served = store.get(1000).await.unwrap().unwrap();
        assert_eq!(served.fields, created.fields);
        assert_eq!(served.created_at, served.updated_at);
        store.close().await;
    }

    async fn an_import_over_a_catalog_upserts_existing_ids_adds_new_ones_and_numbers_the_rest(backend) {
        let database = TestDatabase::create(backend).await;
        let store = seeded_with_50(&database).await;
        let kept = store.get(45).await.unwrap().unwrap();
        let version = store.catalog_version().await.unwrap();
        // Ids 41 to 50 exist, 51 to 60 do not; two records without an id come first, in the same batch.
        let mut records: Vec<Value> = serde_json::from_slice(&generated(20, 41)).unwrap();
        let replaced = records.iter_mut().find(|r| r["id"] == 45).unwrap();
        replaced["name"] = serde_json::json!("Replaced Forty-Five");
        replaced["food_pairing"] = serde_json::json!(["Unheard-of pairing"]);
        let mut replaced = replaced.clone();
        replaced.as_object_mut().unwrap().remove("id");
        let mut without_id = crate::helpers::sample_beer("No id");
        without_id["food_pairing"] = serde_json::json!(["Only the new ones"]);
        records.insert(0, without_id.clone());
        records.insert(1, without_id);
        let file = temp_file("upsert");
        std::fs::write(&file, serde_json::to_vec(&records).unwrap()).unwrap();
        let output = beer_catalog(&database.url, &["import", file.to_str().unwrap()]);
        let _ = std::fs::remove_file(&file);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(String::from_utf8_lossy(&output.stdout), "imported 22, skipped 0\n");

        assert_eq!(store.count(&Default::default()).await.unwrap(), 62);
        let upserted = store.get(45).await.unwrap().unwrap();
        assert_eq!(upserted.fields.name, "Replaced Forty-Five");
        assert_eq!(upserted.fields, serde_json::from_value(replaced).unwrap());
        assert_eq!(upserted.created_at, kept.created_at, "an upsert keeps the beer's creation time");
        assert!(upserted.updated_at > kept.updated_at);
        // Its old terms are gone, its new ones found; the new ids are there with theirs.
        assert_eq!(all_ids(store.as_ref(), "food=unheard").await, vec![45]);
        let (_, terms) = stored_row(&database.url, 45).await;
        let foods: Vec<&str> = terms.iter().filter(|(kind, _)| kind == "food").map(|(_, term)| term.as_str()).collect();
        assert_eq!(foods, ["unheard-of pairing"]);
        let new = store.get(55).await.unwrap().unwrap();
        assert_eq!(new.created_at, new.updated_at);
        let numbered = all_ids(store.as_ref(), "food=only%20the%20new").await;
        assert_eq!(numbered.len(), 2, "{numbered:?}");
        assert!(numbered.iter().all(|id| *id > 60), "numbered past every imported id: {numbered:?}");
        assert_eq!(store.count(&query("ids=51|52|53|54|55|56|57|58|59|60", 1, 1).filter).await.unwrap(), 10);
        assert!(store.catalog_version().await.unwrap() > version);
        store.close().await;
    }
}
