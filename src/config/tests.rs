//! Composing the configuration from settings: defaults, sources, replicas, connection limits.

use super::*;
use clap::Parser;

fn settings(args: &[&str]) -> Settings {
    let mut argv = vec!["beer-catalog"];
    argv.extend_from_slice(args);
    crate::cli::Cli::try_parse_from(argv).unwrap().settings
}

#[test]
fn rate_limit_settings_are_read_and_bad_proxies_named() {
    let config = Config::from_settings(&settings(&[])).unwrap();
    assert_eq!(config.rate_limit.requests_per_window, 3600);
    assert_eq!(config.rate_limit.window, RateLimitConfig::HOUR);
    assert!(
        config.rate_limit.trusted_proxies.is_empty(),
        "X-Forwarded-For is never trusted by default"
    );
    let config = Config::from_settings(&settings(&[
        "--rate-limit-per-hour",
        "0",
        "--trusted-proxies",
        "10.0.0.0/16",
    ]))
    .unwrap();
    assert_eq!(config.rate_limit.requests_per_window, 0);
    assert_eq!(config.rate_limit.trusted_proxies.len(), 1);
    let error = Config::from_settings(&settings(&["--trusted-proxies", "10.0.0.0/16,alb"]))
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("TRUSTED_PROXIES") && error.contains("\"alb\""),
        "{error}"
    );
}

#[test]
fn development_defaults_to_a_local_sqlite_file() {
    let config = Config::from_settings(&settings(&[])).unwrap();
    assert_eq!(config.database.backend(), Backend::Sqlite);
    assert_eq!(config.database_source, DatabaseSource::DevelopmentDefault);
    assert_eq!(config.log_format, LogFormat::Pretty);
}

#[test]
fn production_refuses_to_start_without_postgres_and_names_what_is_missing() {
    let error = Config::from_settings(&settings(&["--env", "production"]))
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("DB_HOST, DB_NAME, DB_USER, DB_PASSWORD"), "{error}");
    let error = Config::from_settings(&settings(&["--env", "production", "--db-host", "rds.internal"]))
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("missing: DB_NAME, DB_USER, DB_PASSWORD"), "{error}");
    let error = Config::from_settings(&settings(&["--env", "production", "--database-url", "sqlite://x.db"]))
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("needs PostgreSQL"), "{error}");
}

#[test]
fn db_parts_assemble_a_postgres_target_without_leaking_the_password() {
    let config = Config::from_settings(&settings(&[
        "--env",
        "production",
        "--db-host",
        "db.example",
        "--db-port",
        "6432",
        "--db-name",
        "beers",
        "--db-user",
        "app",
        "--db-password",
        "p@ss/word",
    ]))
    .unwrap();
    assert_eq!(config.database.backend(), Backend::Postgres);
    assert_eq!(config.database.redacted(), "postgres://app@db.example:6432/beers");
    assert!(!format!("{:?}", config.database).contains("p@ss"));
    assert_eq!(config.log_format, LogFormat::Json);
}

#[test]
fn partial_db_settings_are_an_error_in_development_too() {
    let error = Config::from_settings(&settings(&["--db-host", "x"]))
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("DB_NAME, DB_USER, DB_PASSWORD"), "{error}");
}

#[test]
fn public_base_url_is_validated_and_trimmed() {
    let url = |text: &str| PublicBaseUrl::parse(text).map(|u| u.as_str().to_owned());
    assert_eq!(url("https://beers.example.com/").unwrap(), "https://beers.example.com");
    assert_eq!(url("http://localhost:8080").unwrap(), "http://localhost:8080");
    assert_eq!(
        url("https://example.com/catalog/").unwrap(),
        "https://example.com/catalog"
    );
    for bad in [
        "beers.example.com",
        "/images",
        "ftp://example.com",
        "https://example.com/?a=1",
        "https://example.com/#x",
        "https://u:p@example.com",
    ] {
        let error = url(bad).unwrap_err().to_string();
        assert!(error.starts_with("PUBLIC_BASE_URL must be"), "{bad}: {error}");
    }
    let config = Config::from_settings(&settings(&["--public-base-url", "https://beers.example.com/"])).unwrap();
    assert_eq!(config.public_base_url.unwrap().as_str(), "https://beers.example.com");
    let error = Config::from_settings(&settings(&["--public-base-url", "nope"]))
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("PUBLIC_BASE_URL"), "{error}");
}

#[test]
fn the_development_default_base_url_is_the_listening_address() {
    let url = |address: &str| {
        PublicBaseUrl::for_listener(address.parse().unwrap())
            .as_str()
            .to_owned()
    };
    assert_eq!(url("0.0.0.0:8080"), "http://localhost:8080");
    assert_eq!(url("127.0.0.1:4000"), "http://127.0.0.1:4000");
    assert_eq!(url("[::1]:4000"), "http://[::1]:4000");
}

#[test]
fn image_limits_come_from_the_settings_and_cannot_be_zero() {
    let config = Config::from_settings(&settings(&[])).unwrap();
    assert_eq!(config.image_limits.max_bytes, 2 * 1024 * 1024);
    assert_eq!(config.image_limits.max_dimension, 4096);
    let error = Config::from_settings(&settings(&["--image-max-bytes", "0"]))
        .err()
        .unwrap()
        .to_string();
    assert_eq!(error, "IMAGE_MAX_BYTES must be at least 1");
}

fn config_error(args: &[&str]) -> String {
    Config::from_settings(&settings(args)).err().unwrap().to_string()
}

#[test]
fn a_read_replica_host_reuses_the_primary_settings() {
    let config = Config::from_settings(&settings(&[
        "--db-host",
        "primary.example",
        "--db-port",
        "6432",
        "--db-name",
        "beers",
        "--db-user",
        "app",
        "--db-password",
        "p@ss/word",
        "--db-sslmode",
        "require",
        "--db-read-host",
        "replica.example",
    ]))
    .unwrap();
    let replica = config.read_replica.unwrap();
    assert_eq!(replica.database.redacted(), "postgres://app@replica.example:6432/beers");
    assert_eq!(replica.max_lag, Duration::from_secs(5));
    let options = replica.database.postgres_options().unwrap();
    assert_eq!(options.get_host(), "replica.example");
    assert!(matches!(options.get_ssl_mode(), PgSslMode::Require));
    assert!(!format!("{:?}", replica.database).contains("p@ss"));
    // With the primary as a URL, the host replaces the URL's; the rest (password, TLS query) is kept.
    let config = Config::from_settings(&settings(&[
        "--database-url",
        "postgres://u:secret@primary:5433/d?sslmode=require",
        "--db-read-host",
        "replica",
        "--db-read-max-lag-secs",
        "30",
    ]))
    .unwrap();
    let replica = config.read_replica.unwrap();
    assert_eq!(replica.database.redacted(), "postgres://u@replica:5433/d");
    assert_eq!(
        replica.database.expose(),
        "postgres://u:secret@replica:5433/d?sslmode=require"
    );
    assert_eq!(replica.max_lag, Duration::from_secs(30));
}

#[test]
fn a_read_replica_url_is_taken_as_given_and_blank_settings_mean_none() {
    let config = Config::from_settings(&settings(&[
        "--database-url",
        "postgres://u@primary/d",
        "--db-read-url",
        "postgresql://r:secret@replica:5432/d",
        "--db-read-host",
        " ",
    ]))
    .unwrap();
    assert_eq!(
        config.read_replica.unwrap().database.redacted(),
        "postgresql://r@replica:5432/d"
    );
    let config = Config::from_settings(&settings(&["--database-url", "postgres://u@p/d", "--db-read-url", ""]));
    assert!(config.unwrap().read_replica.is_none());
}

#[test]
fn read_replica_misconfigurations_are_errors_that_say_what_to_fix() {
    let error = config_error(&["--db-read-host", "replica"]);
    assert!(
        error.contains("needs a PostgreSQL primary, but the database is sqlite"),
        "{error}"
    );
    let error = config_error(&["--database-url", "sqlite://x.db", "--db-read-url", "postgres://r/d"]);
    assert!(error.contains("needs a PostgreSQL primary"), "{error}");
    let error = config_error(&[
        "--database-url",
        "postgres://u@p/d",
        "--db-read-url",
        "sqlite://replica.db",
    ]);
    assert!(
        error.contains("DB_READ_URL must be a postgres:// URL") && error.contains("sqlite:"),
        "{error}"
    );
    let error = config_error(&["--database-url", "postgres://u@p/d", "--db-read-url", "mysql://r/d"]);
    assert!(error.contains("DB_READ_URL must be a postgres:// URL"), "{error}");
    let both = [
        "--database-url",
        "postgres://u@p/d",
        "--db-read-url",
        "postgres://r/d",
        "--db-read-host",
        "r",
    ];
    assert!(config_error(&both).contains("set one"));
    let error = config_error(&[
        "--database-url",
        "postgres://u@p/d",
        "--db-read-url",
        "postgres://r:99999/d",
    ]);
    assert!(error.starts_with("DB_READ_URL is not a valid URL"), "{error}");
    let error = config_error(&["--database-url", "postgres://u@p/d", "--db-read-host", "bad host"]);
    assert!(
        error.starts_with("DB_READ_HOST must be a host name or address alone"),
        "{error}"
    );
}

#[test]
fn connection_limits_default_sensibly_and_refuse_zero() {
    let config = Config::from_settings(&settings(&[])).unwrap();
    assert_eq!(
        config.connections.max_connections, None,
        "fitted to the open-file limit at start"
    );
    assert_eq!(config.connections.deadlines.header_read, Duration::from_secs(10));
    assert_eq!(config.connections.deadlines.idle, Duration::from_secs(75));
    for (flag, name) in [
        ("--max-connections", "MAX_CONNECTIONS"),
        ("--header-read-timeout-secs", "HEADER_READ_TIMEOUT_SECS"),
        ("--keep-alive-timeout-secs", "KEEP_ALIVE_TIMEOUT_SECS"),
    ] {
        assert_eq!(config_error(&[flag, "0"]), format!("{name} must be at least 1"));
    }
}
