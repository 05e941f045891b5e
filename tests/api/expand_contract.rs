//! The previous release on a database migrated by this one (docs/deployment.md, expand/contract): during a
//! blue/green bake both run on the migrated schema. Issue 22's migration drops `beer_terms`' foreign key and moves
//! its cascade into a trigger; the previous release still writes and reads the term rows itself. So its statements
//! (the ones its `sql::insert`, `insert_terms`, `delete_terms`, `update`, `delete` and SQL filters render, replayed
//! here in its order) must keep the table right, and this release must keep it filled for that release's reads.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, sample_beer};

/// Runs `statements` in one transaction, as the previous release ran each write.
async fn in_transaction(database_url: &str, statements: &[String]) {
    use sqlx::Connection;
    macro_rules! run {
        ($connection:ty) => {{
            let mut connection = <$connection>::connect(database_url).await.unwrap();
            let mut tx = connection.begin().await.unwrap();
            for statement in statements {
                sqlx::query(statement).execute(&mut *tx).await.unwrap();
            }
            tx.commit().await.unwrap();
        }};
    }
    if database_url.starts_with("sqlite:") {
        run!(sqlx::SqliteConnection)
    } else {
        run!(sqlx::PgConnection)
    }
}

/// `query`'s rows of two text columns.
async fn text_pairs(database_url: &str, query: &str) -> Vec<(String, String)> {
    use sqlx::Connection;
    macro_rules! read {
        ($connection:ty) => {{
            let mut connection = <$connection>::connect(database_url).await.unwrap();
            sqlx::query_as(query).fetch_all(&mut connection).await.unwrap()
        }};
    }
    if database_url.starts_with("sqlite:") {
        read!(sqlx::SqliteConnection)
    } else {
        read!(sqlx::PgConnection)
    }
}

async fn terms(database_url: &str, id: i64) -> Vec<(String, String)> {
    text_pairs(
        database_url,
        &format!("SELECT kind, term FROM beer_terms WHERE beer_id = {id} ORDER BY kind, term"),
    )
    .await
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(k, t)| (k.to_string(), t.to_string())).collect()
}

/// The previous release's INSERT of a beer's row (the columns its `sql::insert` writes), with an explicit id.
fn old_insert(id: i64, document: &Value) -> String {
    let name = document["name"].as_str().unwrap();
    let abv = &document["abv"];
    let text = document.to_string().replace('\'', "''");
    format!(
        "INSERT INTO beers (id, name, name_search, abv, document, rendered, created_at, updated_at) VALUES \
         ({id}, '{name}', '{}', {abv}, '{text}', '{text}', '2026-12-01T00:00:00+00:00', '2026-12-01T00:00:00+00:00')",
        name.to_lowercase()
    )
}

/// Polls `path` until `check` accepts its JSON body (the service sees another writer's commit within its 1 s
/// freshness bound).
async fn eventually(app: &TestApp, path: &str, check: impl Fn(&Value) -> bool) {
    for _ in 0..50 {
        let (_, body) = app.get_json(path).await;
        if check(&body) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "{path} never showed the previous release's write: {:?}",
        app.get_json(path).await
    );
}

fn ids(body: &Value) -> Vec<i64> {
    body.as_array()
        .map(|a| a.iter().filter_map(|b| b["id"].as_i64()).collect())
        .unwrap_or_default()
}

backend_tests! {
    async fn the_previous_releases_statements_work_on_the_migrated_schema(backend) {
        let app = TestApp::spawn(backend).await;
        let url = app.database_url.clone();
        let postgres = !url.starts_with("sqlite:");

        // This release's writes keep the term rows the previous release reads.
        let (_, created) = app.post_beer(&sample_beer("New Release Pale")).await;
        let new_id = created["id"].as_i64().unwrap();
        let sample_terms = [("food", "aged cheddar"), ("food", "spicy tacos"), ("hop", "citra"), ("malt", "maris otter")];
        assert_eq!(terms(&url, new_id).await, pairs(&sample_terms));
        let mut changed = sample_beer("New Release Pale");
        changed["ingredients"]["hops"][0]["name"] = json!("Mosaic");
        let response = app.send_json(Method::PUT, &format!("/beers/{new_id}"), None, &changed).await;
        assert_eq!(response.status(), 200);
        let replaced_terms = [("food", "aged cheddar"), ("food", "spicy tacos"), ("hop", "mosaic"), ("malt", "maris otter")];
        assert_eq!(terms(&url, new_id).await, pairs(&replaced_terms));
        // The previous release's SQL filter for `hops` (its read path without a read model) finds it.
        let found = text_pairs(
            &url,
            "SELECT CAST(id AS TEXT), name FROM beers WHERE EXISTS (SELECT 1 FROM beer_terms WHERE \
             beer_terms.beer_id = beers.id AND beer_terms.kind = 'hop' AND beer_terms.term LIKE '%m%o%s%a%i%c%')",
        )
        .await;
        assert_eq!(found, vec![(new_id.to_string(), "New Release Pale".to_owned())]);

        // The previous release's create: the beer's row, then its terms, in one transaction.
        let mut old = sample_beer("Old Release Stout");
        old["ingredients"]["hops"][0]["name"] = json!("Fuggles");
        in_transaction(&url, &[
            old_insert(9001, &old),
            "DELETE FROM beer_terms WHERE beer_id = 9001".to_owned(),
            "INSERT INTO beer_terms (beer_id, kind, term) VALUES (9001, 'hop', 'fuggles'), (9001, 'malt', 'maris otter')"
                .to_owned(),
        ])
        .await;
        eventually(&app, "/v2/beers?hops=fuggles", |body| ids(body) == vec![9001]).await;

        // Its replace (on PostgreSQL it locks the row first, then writes the terms, then the row).
        let lock = if postgres { " FOR UPDATE" } else { "" };
        old["ingredients"]["hops"][0]["name"] = json!("Goldings");
        let document = old.to_string().replace('\'', "''");
        in_transaction(&url, &[
            format!("SELECT id FROM beers WHERE id = 9001{lock}"),
            "DELETE FROM beer_terms WHERE beer_id = 9001".to_owned(),
            "INSERT INTO beer_terms (beer_id, kind, term) VALUES (9001, 'hop', 'goldings'), (9001, 'malt', 'maris otter')"
                .to_owned(),
            format!("UPDATE beers SET document = '{document}', rendered = '{document}' WHERE id = 9001"),
        ])
        .await;
        eventually(&app, "/v2/beers?hops=goldings", |body| ids(body) == vec![9001]).await;
        eventually(&app, "/v2/beers?hops=fuggles", |body| ids(body).is_empty()).await;

        // Its delete relies on the cascade, which the trigger now does.
        in_transaction(&url, &["DELETE FROM beers WHERE id = 9001".to_owned()]).await;
        assert_eq!(terms(&url, 9001).await, pairs(&[]));
        eventually(&app, "/v2/beers?hops=goldings", |body| ids(body).is_empty()).await;

        // This release's delete takes the terms too.
        let response = app.client.delete(app.url(&format!("/beers/{new_id}"))).send().await.unwrap();
        assert_eq!(response.status(), 204);
        assert_eq!(terms(&url, new_id).await, pairs(&[]));
        assert_eq!(text_pairs(&url, "SELECT CAST(beer_id AS TEXT), term FROM beer_terms").await, pairs(&[]));
    }
}
