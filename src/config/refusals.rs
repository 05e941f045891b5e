//! Settings refused at start-up, each with a message naming the variable and what it accepts: values that would
//! silence the service (`LOG_LEVEL=warning`), mean nothing (a zero pool, a zero timeout), or be read as something
//! else than meant (`DB_READ_HOST=postgres://...`).

use clap::Parser;

use super::{Config, ConfigError};

fn from_args(args: &[&str]) -> Result<Config, ConfigError> {
    let mut argv = vec!["beer-catalog"];
    argv.extend_from_slice(args);
    Config::from_settings(&crate::cli::Cli::try_parse_from(argv).unwrap().settings)
}

fn refusal(args: &[&str]) -> String {
    match from_args(args) {
        Ok(_) => panic!("{args:?} was accepted"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_log_level_that_would_enable_nothing_is_refused_naming_the_valid_values() {
    // tracing reads each of these as a target name: valid syntax that enables nothing of this service's.
    for value in ["warning", "verbose", "loud", "info,verbose", "", "info,"] {
        let error = refusal(&["--log-level", value]);
        assert!(
            error.starts_with("LOG_LEVEL must be a level (off, error, warn, info, debug, trace)"),
            "{value:?}: {error}"
        );
    }
    let error = refusal(&["--log-level", "beer_catalog=loud"]);
    assert!(
        error.contains("\"beer_catalog=loud\" in \"beer_catalog=loud\" is neither: "),
        "{error}"
    );
}

#[test]
fn levels_and_directive_lists_keep_working() {
    for value in [
        "info",
        "WARN",
        "off",
        "trace",
        "beer_catalog=debug,sqlx=warn",
        "warn,beer_catalog=debug",
        "beer_catalog::http=trace",
        "[request]=debug",
    ] {
        let config = from_args(&["--log-level", value]).unwrap_or_else(|e| panic!("{value:?}: {e}"));
        assert_eq!(config.log_level, value);
    }
}

#[test]
fn zero_pools_and_timeouts_are_refused() {
    for (flag, variable) in [
        ("--db-max-connections", "DB_MAX_CONNECTIONS"),
        ("--db-connect-timeout-secs", "DB_CONNECT_TIMEOUT_SECS"),
        ("--request-timeout-secs", "REQUEST_TIMEOUT_SECS"),
    ] {
        assert_eq!(refusal(&[flag, "0"]), format!("{variable} must be at least 1"));
        assert!(from_args(&[flag, "1"]).is_ok(), "{flag} 1");
    }
}

#[test]
fn a_url_or_host_and_port_where_a_read_replica_host_belongs_is_refused() {
    let primary = ["--database-url", "postgres://u:secret@primary:5432/d"];
    for host in ["postgres://x", "replica:5432", "u@replica", "replica/d", "bad host"] {
        let error = refusal(&[&primary[..], &["--db-read-host", host]].concat());
        assert!(
            error.starts_with("DB_READ_HOST must be a host name or address alone")
                && error.contains(&format!("got {host:?}")),
            "{host}: {error}"
        );
        assert!(!error.contains("secret"), "{error}");
    }
    for host in ["replica", "replica.example.internal", "10.0.0.5", "[::1]"] {
        let config = from_args(&[&primary[..], &["--db-read-host", host]].concat()).unwrap();
        assert_eq!(
            config.read_replica.unwrap().database.redacted(),
            format!("postgres://u@{host}:5432/d")
        );
    }
}

#[test]
fn a_warmup_timeout_past_ten_minutes_is_refused_and_zero_means_no_wait() {
    let error = refusal(&["--read-model-warmup-timeout-secs", "601"]);
    assert_eq!(
        error,
        "READ_MODEL_WARMUP_TIMEOUT_SECS must be at most 600 (seconds a starting server stays out of service while its \
         read model builds; a million beers take about 10 s), got 601"
    );
    assert!(
        crate::cli::Cli::try_parse_from(["beer-catalog", "--read-model-warmup-timeout-secs", "-1"]).is_err(),
        "a negative number is no duration"
    );
    for (value, secs) in [("0", 0), ("600", 600), ("45", 45)] {
        let config = from_args(&["--read-model-warmup-timeout-secs", value]).unwrap();
        assert_eq!(config.read_model_warmup.timeout, std::time::Duration::from_secs(secs));
    }
    assert_eq!(
        from_args(&[]).unwrap().read_model_warmup.timeout,
        std::time::Duration::from_secs(30),
        "the default"
    );
}
