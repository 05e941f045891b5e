//! The binary at start-up, as an operator meets it: settings that would silence or break the service are refused
//! with one line naming the setting, and a database that cannot be opened is named with each cause once.

use crate::backend_tests;
use crate::helpers::{Backend, beer_catalog_on, postgres_admin_url};

/// Runs `serve` with `settings` on top of `database_url`; it must exit (not serve) within the test's time.
fn refused_start(database_url: &str, settings: &[(&str, &str)]) -> String {
    let mut command = beer_catalog_on(database_url);
    command
        .args(["serve"])
        .env("PORT", "0")
        .env("DB_CONNECT_TIMEOUT_SECS", "2");
    for (name, value) in settings {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn a_log_level_that_would_silence_the_service_stops_it_saying_what_is_valid() {
    let url = format!("sqlite://{}/never-created.db", std::env::temp_dir().display());
    for level in ["warning", "verbose", "loud"] {
        let stderr = refused_start(&url, &[("LOG_LEVEL", level)]);
        assert!(
            stderr.starts_with(&format!(
                "error: LOG_LEVEL must be a level (off, error, warn, info, debug, trace) or comma-separated \
                 directives such as beer_catalog=debug,sqlx=warn; \"{level}\" in \"{level}\" is neither"
            )),
            "{stderr}"
        );
    }
    for (name, value) in [
        ("DB_MAX_CONNECTIONS", "0"),
        ("REQUEST_TIMEOUT_SECS", "0"),
        ("DB_CONNECT_TIMEOUT_SECS", "0"),
    ] {
        let stderr = refused_start(&url, &[(name, value)]);
        assert_eq!(stderr.trim(), format!("error: {name} must be at least 1"));
    }
}

/// Each `: `-separated part of the error line once: no cause quoted by its parent and printed again.
fn assert_each_cause_once(stderr: &str) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    let parts: Vec<&str> = line.split(": ").collect();
    for (i, part) in parts.iter().enumerate() {
        assert!(!parts[i + 1..].contains(part), "{part:?} repeated in {line}");
    }
}

backend_tests! {
    async fn a_missing_database_is_named_with_each_cause_once(backend) {
        let (url, missing) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("no-such-dir-{}", uuid::Uuid::new_v4()));
                (format!("sqlite://{}/beers.db", dir.display()), "unable to open database file".to_owned())
            }
            Backend::Postgres => {
                let mut url = url::Url::parse(&postgres_admin_url()).unwrap();
                let name = format!("beer_missing_{}", uuid::Uuid::new_v4().simple());
                url.set_path(&name);
                (url.to_string(), format!("database \"{name}\" does not exist"))
            }
        };
        let stderr = refused_start(&url, &[]);
        assert!(stderr.contains("error: cannot connect to "), "{stderr}");
        assert_eq!(stderr.matches(&missing).count(), 1, "{stderr}");
        assert_each_cause_once(&stderr);
    }
}
