//! The binary's one-off commands, run as a deploy or an operator would run them.

use std::process::{Command, Output};

use beer_catalog::domain::BeerFilter;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{
    TestApp, TestDatabase, beer_catalog, beer_catalog_on, binary, free_port, pg_connect, punk_dataset_path, sample_beer,
};

/// `import -` of `records` (a JSON array) into `database_url`.
fn import_json(database_url: &str, records: &str) -> Output {
    use std::io::Write;
    let mut child = beer_catalog_on(database_url)
        .args(["import", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(records.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

backend_tests! {
    async fn migrate_then_seed_once(backend) {
        let database = TestDatabase::create(backend).await;
        let output = beer_catalog(&database.url, &["migrate"]);
        assert!(output.status.success(), "{output:?}");
        assert!(stdout(&output).starts_with("migrations applied to "), "{}", stdout(&output));
        assert!(!stdout(&output).contains("password"));

        let output = beer_catalog(&database.url, &["seed"]);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(stdout(&output).trim(), "seeded 20 sample beers");
        let output = beer_catalog(&database.url, &["seed"]);
        assert_eq!(stdout(&output).trim(), "catalog already holds 20 beers: nothing seeded");
    }

    // The README's "Try it" flow, on either backend: the sample beers are 1-20, a POST is 21, and no id is
    // ever handed out twice (PostgreSQL once numbered from 2, and reused a deleted beer's id after an import).
    async fn a_fresh_catalog_numbers_from_1_as_the_readme_shows(backend) {
        let database = std::sync::Arc::new(TestDatabase::create(backend).await);
        assert!(beer_catalog(&database.url, &["migrate"]).status.success());
        assert!(beer_catalog(&database.url, &["seed"]).status.success());
        let app = TestApp::spawn_on(database, &[], |_| {}).await;
        let (status, first) = app.get_json("/beers/1").await;
        assert_eq!((status, &first["name"]), (200, &json!("Pilsner Urquell")), "{first}");
        assert_eq!(app.get("/beers/20").await.status(), 200);
        assert_eq!(app.get("/beers/21").await.status(), 404);

        let (status, created) = app.post_beer(&sample_beer("Session Pale")).await;
        assert_eq!((status, &created["id"]), (201, &json!(21)), "{created}");
        assert_eq!(app.client.delete(app.url("/beers/21")).send().await.unwrap().status(), 204);
        // An id-less import after that delete continues after 21, as a POST does.
        let output = import_json(&app.database_url, r#"[{"name": "Imported", "abv": 5}]"#);
        assert!(output.status.success(), "{output:?}");
        let (status, created) = app.post_beer(&sample_beer("After Import")).await;
        assert_eq!((status, &created["id"]), (201, &json!(23)), "{created}");
    }

    async fn an_id_less_import_into_an_empty_catalog_starts_at_1(backend) {
        let database = TestDatabase::create(backend).await;
        let output = import_json(&database.url, r#"[{"name": "First", "abv": 5}, {"name": "Second", "abv": 6}]"#);
        assert!(output.status.success(), "{output:?}");
        let app = TestApp::spawn_on(std::sync::Arc::new(database), &[], |_| {}).await;
        assert_eq!(app.get_json("/beers/1").await.1["name"], "First");
        assert_eq!(app.get_json("/beers/2").await.1["name"], "Second");
    }

    #[ignore = "needs the Punk dataset at ../shared/data/punkapi: run with --include-ignored (.ci/run does)"]
    async fn import_loads_the_whole_punk_dataset_and_upserts_by_id(backend) {
        let path = punk_dataset_path();
        let app = TestApp::spawn(backend).await;
        let path = path.to_str().unwrap();

        let output = beer_catalog(&app.database_url, &["import", "--dry-run", path]);
        assert!(output.status.success(), "{output:?}");
        assert!(stdout(&output).starts_with("would import 325, skipped 0"), "{}", stdout(&output));
        assert_eq!(app.catalog.reads().count(&BeerFilter::default()).await.unwrap(), 0, "a dry run writes nothing");

        let output = beer_catalog(&app.database_url, &["import", path]);
        assert!(output.status.success(), "{output:?}");
        let report = stdout(&output);
        assert!(report.starts_with("imported 325, skipped 0\n"), "{report}");
        // The one real data quirk is imported as given, and said so.
        assert!(report.contains("warning record #317 (id 317, \"Al Adjore!\"): ph: must be between 0 and 14 (got 79)"), "{report}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("import: written 325/325"));
        // The import is another process: the server sees it within the bound.
        let counts = || async { app.catalog.reads().count(&BeerFilter::default()).await.unwrap() == 325 };
        crate::helpers::within_bound("the imported beers", counts).await;

        // Again: the same ids are updated, not duplicated.
        let output = beer_catalog(&app.database_url, &["import", path]);
        assert!(output.status.success());
        tokio::time::sleep(crate::helpers::FRESHNESS_BOUND).await;
        assert_eq!(app.catalog.reads().count(&BeerFilter::default()).await.unwrap(), 325);
        let (_, body) = app.get_json("/v2/beers/106").await;
        assert_eq!(body[0]["name"], "Punk IPA 2010 - Current");

        // New beers continue after the imported ids.
        let (status, created) = app.post_beer(&sample_beer("After Import")).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["id"], 326);
    }

    async fn import_skips_bad_records_with_reasons_and_exits_2(backend) {
        let database = TestDatabase::create(backend).await;
        let file = std::env::temp_dir().join(format!("import-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&file, r#"[
            {"id": 5, "name": "Fine", "abv": 4.5, "food_pairing": ["Fish"]},
            {"name": "No ABV"},
            {"id": 6, "name": "Someday", "abv": 5, "first_brewed": "someday"},
            {"id": 7, "name": "Strong", "abv": 150},
            {"id": 8, "name": "Nul", "abv": 5, "description": "a\u0000b"}
        ]"#).unwrap();
        let output = beer_catalog(&database.url, &["import", file.to_str().unwrap()]);
        let _ = std::fs::remove_file(&file);
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let report = stdout(&output);
        assert!(report.starts_with("imported 2, skipped 3\n"), "{report}");
        assert!(report.contains("skipped record #2 (\"No ABV\"): missing field `abv`"), "{report}");
        assert!(report.contains("skipped record #3 (id 6, \"Someday\"): first_brewed: must be MM/YYYY"), "{report}");
        // Out of range is imported with a warning (real datasets have such quirks), or skipped with --strict.
        assert!(report.contains("warning record #4 (id 7, \"Strong\"): abv: must be between 0 and 100 (got 150)"), "{report}");
        // A NUL is skipped with the field named on both backends (PostgreSQL cannot store it at all).
        assert!(report.contains("skipped record #5 (id 8, \"Nul\"): description: must not contain control characters (found U+0000"), "{report}");

        let bad = beer_catalog(&database.url, &["import", "/nonexistent/beers.json"]);
        assert_eq!(bad.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("reading /nonexistent/beers.json"));
    }
}

#[test]
fn import_reads_standard_input() {
    use std::io::Write;
    let dir = std::env::temp_dir().join(format!("stdin-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/beers.db", dir.display());
    let mut child = binary()
        .args(["import", "-"])
        .env_clear()
        .env("DATABASE_URL", &url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"[{"name": "Piped", "abv": 5}]"#)
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout(&output).trim(), "imported 1, skipped 0");
}

#[test]
fn production_without_a_database_refuses_to_start_and_names_the_variables() {
    let output = binary()
        .arg("serve")
        .env_clear()
        .env("APP_ENV", "production")
        .env("DB_HOST", "db.internal")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing: DB_NAME, DB_USER, DB_PASSWORD"), "{stderr}");
}

#[test]
fn an_unreachable_database_fails_fast_naming_host_and_port() {
    let started = std::time::Instant::now();
    // Nothing listens on port 1: every attempt is refused until the connect timeout gives up.
    let output = binary()
        .arg("migrate")
        .env_clear()
        .env("DATABASE_URL", "postgres://app:secret@127.0.0.1:1/beers")
        .env("DB_CONNECT_TIMEOUT_SECS", "2")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot connect to postgres database at postgres://app@127.0.0.1:1/beers"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn help_never_shows_secret_values() {
    let output = binary()
        .arg("--help")
        .env("DB_PASSWORD", "hunter2-secret")
        .env("API_KEYS", "key-secret")
        .env("DATABASE_URL", "postgres://u:url-secret@h/d")
        .output()
        .unwrap();
    let help = stdout(&output);
    assert!(help.contains("DB_PASSWORD") && help.contains("API_KEYS"), "{help}");
    for secret in ["hunter2-secret", "key-secret", "url-secret"] {
        assert!(!help.contains(secret), "--help leaked {secret}");
    }
}

#[test]
fn healthcheck_exits_non_zero_when_nothing_answers() {
    let output = binary()
        .args([
            "healthcheck",
            "--url",
            "http://127.0.0.1:1/health",
            "--timeout-secs",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("unhealthy: "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run `cargo test -- --include-ignored`"]
async fn provisioned_roles_separate_schema_ownership_from_data_access() {
    let admin_url = crate::helpers::postgres_admin_url();
    let database = TestDatabase::create(crate::helpers::Backend::Postgres).await;
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let (owner, app) = (format!("owner_{suffix}"), format!("app_{suffix}"));
    let as_role = |role: &str| {
        let mut url = url::Url::parse(&database.url).unwrap();
        url.set_username(role).unwrap();
        url.set_password(Some("pw")).unwrap();
        url.to_string()
    };
    let run = |url: &str, args: &[&str], production: bool| {
        let mut command = beer_catalog_on(url);
        command.args(args);
        command
            .env("MIGRATOR_DB_USER", &owner)
            .env("MIGRATOR_DB_PASSWORD", "pw");
        command.env("APP_DB_USER", &app).env("APP_DB_PASSWORD", "pw");
        if production {
            command.env("APP_ENV", "production");
        }
        command.output().unwrap()
    };

    let output = run(&database.url, &["provision-roles"], true);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout(&output).contains(&format!("role {owner}: created; owns schema beer_catalog")));
    let again = run(&database.url, &["provision-roles"], true);
    assert!(
        stdout(&again).contains("password updated"),
        "re-running is safe: {again:?}"
    );

    // The owner migrates; the app role reads and writes rows in production mode (no migration attempted).
    let output = run(&as_role(&owner), &["migrate"], true);
    assert!(output.status.success(), "{output:?}");
    let output = run(&as_role(&app), &["seed"], true);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout(&output).trim(), "seeded 20 sample beers");

    use sqlx::Connection;
    let mut app_conn = pg_connect(&as_role(&app)).await;
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(&mut app_conn)
        .await
        .unwrap();
    assert_eq!(schema, "beer_catalog");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM beers")
        .fetch_one(&mut app_conn)
        .await
        .unwrap();
    assert_eq!(count, 20);
    let denied = sqlx::query("CREATE TABLE sneaky (id int)")
        .execute(&mut app_conn)
        .await
        .unwrap_err();
    assert!(denied.to_string().contains("permission denied"), "{denied}");
    let denied = sqlx::query("DROP TABLE beers")
        .execute(&mut app_conn)
        .await
        .unwrap_err();
    assert!(denied.to_string().contains("must be owner"), "{denied}");
    app_conn.close().await.unwrap();

    let output = run(&database.url, &["provision-roles", "--schema", "Bad-Name"], true);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("DB_SCHEMA \"Bad-Name\" must be"));

    drop(database);
    let mut admin = pg_connect(&admin_url).await;
    for role in [&app, &owner] {
        sqlx::query(&format!("DROP ROLE IF EXISTS {role}"))
            .execute(&mut admin)
            .await
            .unwrap();
    }
}

/// What `cargo run` does on a fresh clone: no configuration at all -> a SQLite file in the working directory,
/// created, migrated and seeded, served on PORT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nothing_configured_the_server_serves_a_seeded_local_catalog() {
    let dir = std::env::temp_dir().join(format!("fresh-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let server = binary()
        .current_dir(&dir)
        .env_clear()
        .env("PORT", port.to_string())
        .env("BIND_ADDRESS", "127.0.0.1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/beers");
    let mut beers: Option<Vec<serde_json::Value>> = None;
    for _ in 0..100 {
        if let Ok(response) = client.get(&url).send().await {
            beers = Some(response.json().await.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let output = server.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    let database_created = dir.join("beer-catalog.db").exists();
    let _ = std::fs::remove_dir_all(&dir);
    let beers = beers.unwrap_or_else(|| panic!("the server never answered: {log}"));
    assert_eq!(beers.len(), 20, "the first page holds the 20 sample beers");
    assert_eq!(beers[0]["name"], "Pilsner Urquell");
    assert!(database_created, "beer-catalog.db in the working directory");
    assert!(log.contains("DEVELOPMENT MODE"), "said loudly: {log}");
    assert!(log.contains("seeded 20 sample beers"), "{log}");
    assert!(
        output.status.success(),
        "SIGTERM ends it with exit 0: {:?}",
        output.status
    );
}
