//! Turns parsed settings into a validated configuration. The rule that matters most: production never falls back
//! to a local database. "The app connected to localhost instead of RDS" is the failure this module makes
//! impossible; a missing setting is an error that names the variable.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::cli::{AppEnv, LogFormat, Settings, SslMode};
use crate::http::rate_limit::RateLimitConfig;
use crate::storage::{Backend, StoreOptions};

/// The SQLite file used in development when no database is configured.
pub const DEV_SQLITE_URL: &str = "sqlite://beer-catalog.db";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "APP_ENV=production needs a PostgreSQL database: set DATABASE_URL, or DB_HOST, DB_NAME, DB_USER and \
         DB_PASSWORD (missing: {missing})"
    )]
    ProductionWithoutDatabase { missing: String },
    #[error("APP_ENV=production needs PostgreSQL, but DATABASE_URL names a {0} database")]
    ProductionWithoutPostgres(Backend),
    #[error("incomplete PostgreSQL settings: {missing} must be set when DB_HOST, DB_NAME, DB_USER or DB_PASSWORD is")]
    IncompleteDatabase { missing: String },
    #[error("DATABASE_URL must start with sqlite:// or postgres://, got {0}")]
    UnsupportedDatabaseUrl(String),
    #[error("DATABASE_URL is not a valid URL: {0}")]
    InvalidDatabaseUrl(String),
    #[error("API_KEY_SHA256 entries must be 64 hex characters (a SHA-256 digest); entry {0} is not")]
    InvalidKeyDigest(usize),
    #[error("TRUSTED_PROXIES entries must be CIDRs (10.0.0.0/16) or addresses (10.0.0.7); {0:?} is neither")]
    InvalidTrustedProxy(String),
}

/// Where the database is, with the secret parts kept out of `Debug` and logs.
#[derive(Clone)]
pub struct DatabaseUrl {
    backend: Backend,
    url: SecretString,
    postgres: Option<PgConnectOptions>,
    redacted: String,
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl DatabaseUrl {
    /// Parses `sqlite://...` or `postgres://...` / `postgresql://...`.
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            return Err(ConfigError::UnsupportedDatabaseUrl(format!("{scheme}:...")));
        };
        let redacted = match backend {
            Backend::Sqlite => url.to_owned(),
            Backend::Postgres => {
                let mut parsed = url::Url::parse(url).map_err(|e| ConfigError::InvalidDatabaseUrl(e.to_string()))?;
                let _ = parsed.set_password(None);
                parsed.set_query(None);
                parsed.to_string()
            }
        };
        Ok(Self {
            backend,
            url: url.into(),
            postgres: None,
            redacted,
        })
    }

    fn from_parts(host: &str, port: u16, name: &str, user: &str, password: &str, ssl: SslMode) -> Self {
        let ssl_mode = match ssl {
            SslMode::Disable => PgSslMode::Disable,
            SslMode::Prefer => PgSslMode::Prefer,
            SslMode::Require => PgSslMode::Require,
            SslMode::VerifyCa => PgSslMode::VerifyCa,
            SslMode::VerifyFull => PgSslMode::VerifyFull,
        };
        // Built field by field, so a password with `@` or `/` in it (RDS generates such) needs no URL escaping.
        let options = PgConnectOptions::new()
            .host(host)
            .port(port)
            .database(name)
            .username(user)
            .password(password)
            .ssl_mode(ssl_mode);
        let redacted = format!("postgres://{user}@{host}:{port}/{name}");
        Self {
            backend: Backend::Postgres,
            url: redacted.clone().into(),
            postgres: Some(options),
            redacted,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL as given, password included, only for handing to the driver. (A target assembled from DB_* parts
    /// is connected through [`Self::postgres_options`]; its URL here is the redacted one.)
    pub fn expose(&self) -> &str {
        self.url.expose_secret()
    }

    pub fn postgres_options(&self) -> Option<&PgConnectOptions> {
        self.postgres.as_ref()
    }

    /// Scheme, user, host, port and database: what to print when something goes wrong.
    pub fn redacted(&self) -> String {
        self.redacted.clone()
    }
}

/// Where the database setting came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DatabaseSource {
    Configured,
    /// Development with nothing configured: the local SQLite file, created, migrated and seeded on start.
    DevelopmentDefault,
}

/// The accepted API keys, as SHA-256 digests (plain keys are hashed on load and not kept).
#[derive(Clone, Default)]
pub struct ApiKeys(Vec<[u8; 32]>);

impl ApiKeys {
    pub fn digest(key: &str) -> [u8; 32] {
        Sha256::digest(key.as_bytes()).into()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time comparison of the presented key's digest against every configured digest: the time taken
    /// says nothing about how much of a key matched.
    pub fn accepts(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        let digest = Self::digest(presented);
        self.0
            .iter()
            .fold(subtle::Choice::from(0), |found, known| found | known.ct_eq(&digest))
            .into()
    }

    fn parse(plain: Option<&str>, digests: Option<&str>) -> Result<Self, ConfigError> {
        let entries = |list: Option<&str>| -> Vec<String> {
            list.unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let mut keys: Vec<[u8; 32]> = entries(plain).iter().map(|key| Self::digest(key)).collect();
        let hex_digests = entries(digests);
        for (i, digest) in hex_digests.iter().enumerate() {
            let bytes = hex::decode(digest).ok().and_then(|b| <[u8; 32]>::try_from(b).ok());
            keys.push(bytes.ok_or(ConfigError::InvalidKeyDigest(i + 1))?);
        }
        Ok(Self(keys))
    }
}

#[derive(Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub database: DatabaseUrl,
    pub database_source: DatabaseSource,
    pub store: StoreOptions,
    pub bind_address: String,
    pub port: u16,
    pub log_level: String,
    pub log_format: LogFormat,
    pub request_timeout: Duration,
    pub shutdown_grace: Duration,
    pub api_keys: ApiKeys,
    /// Per-client request limit; tests shorten its window.
    pub rate_limit: RateLimitConfig,
}

impl Config {
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let production = settings.app_env == AppEnv::Production;
        let (database, database_source) = database(settings)?;
        if production && database.backend() != Backend::Postgres {
            return Err(ConfigError::ProductionWithoutPostgres(database.backend()));
        }
        Ok(Self {
            app_env: settings.app_env,
            database,
            database_source,
            store: StoreOptions {
                max_connections: settings.db_max_connections.max(1),
                connect_timeout: Duration::from_secs(settings.db_connect_timeout_secs.max(1)),
            },
            bind_address: settings.bind_address.clone(),
            port: settings.port,
            log_level: settings.log_level.clone(),
            log_format: settings
                .log_format
                .unwrap_or(if production { LogFormat::Json } else { LogFormat::Pretty }),
            request_timeout: Duration::from_secs(settings.request_timeout_secs.max(1)),
            shutdown_grace: Duration::from_secs(settings.shutdown_grace_secs),
            api_keys: ApiKeys::parse(settings.api_keys.as_deref(), settings.api_key_sha256.as_deref())?,
            rate_limit: RateLimitConfig {
                requests_per_window: settings.rate_limit_per_hour,
                window: RateLimitConfig::HOUR,
                trusted_proxies: RateLimitConfig::parse_trusted_proxies(settings.trusted_proxies.as_deref())
                    .map_err(ConfigError::InvalidTrustedProxy)?,
            },
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }
}

fn database(settings: &Settings) -> Result<(DatabaseUrl, DatabaseSource), ConfigError> {
    if let Some(url) = settings.database_url.as_deref().filter(|u| !u.trim().is_empty()) {
        return Ok((DatabaseUrl::parse(url)?, DatabaseSource::Configured));
    }
    let parts = [
        ("DB_HOST", &settings.db_host),
        ("DB_NAME", &settings.db_name),
        ("DB_USER", &settings.db_user),
        ("DB_PASSWORD", &settings.db_password),
    ];
    let given = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.is_empty());
    let missing: Vec<&str> = parts.iter().filter(|(_, v)| !given(v)).map(|(name, _)| *name).collect();
    if missing.is_empty() {
        let value = |v: &Option<String>| v.clone().unwrap_or_default();
        let url = DatabaseUrl::from_parts(
            &value(&settings.db_host),
            settings.db_port,
            &value(&settings.db_name),
            &value(&settings.db_user),
            &value(&settings.db_password),
            settings.db_sslmode,
        );
        return Ok((url, DatabaseSource::Configured));
    }
    let missing = missing.join(", ");
    if settings.app_env == AppEnv::Production {
        return Err(ConfigError::ProductionWithoutDatabase { missing });
    }
    if parts.iter().any(|(_, v)| given(v)) {
        return Err(ConfigError::IncompleteDatabase { missing });
    }
    Ok((DatabaseUrl::parse(DEV_SQLITE_URL)?, DatabaseSource::DevelopmentDefault))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn settings(args: &[&str]) -> Settings {
        let mut argv = vec!["beer-catalog"];
        argv.extend_from_slice(args);
        crate::cli::Cli::try_parse_from(argv).unwrap().settings
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
    fn database_urls_are_redacted() {
        let url = DatabaseUrl::parse("postgres://u:secret@h:5432/d?sslmode=require").unwrap();
        assert_eq!(url.redacted(), "postgres://u@h:5432/d");
        assert!(DatabaseUrl::parse("mysql://x").is_err());
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
    fn api_keys_accept_plain_keys_and_digests() {
        let digest = hex::encode(ApiKeys::digest("second"));
        let keys = ApiKeys::parse(Some("first, "), Some(&digest)).unwrap();
        assert!(keys.accepts("first") && keys.accepts("second"));
        assert!(!keys.accepts("third") && !keys.accepts(""));
        assert!(ApiKeys::parse(None, Some("abc")).is_err());
        assert!(ApiKeys::parse(None, None).unwrap().is_empty());
    }
}
