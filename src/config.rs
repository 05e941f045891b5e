//! Turns parsed settings into a validated configuration. The rule that matters most: production never falls back
//! to a local database. "The app connected to localhost instead of RDS" is the failure this module makes
//! impossible; a missing setting is an error that names the variable.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::cli::{AppEnv, LogFormat, Settings, SslMode};
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
    #[error("DB_READ_URL must be a postgres:// URL (a read replica is a PostgreSQL standby), got {0}")]
    ReadUrlNotPostgres(String),
    #[error("DB_READ_URL is not a valid URL: {0}")]
    InvalidReadUrl(String),
    #[error(
        "DB_READ_URL and DB_READ_HOST are both set: set one (DB_READ_HOST takes the primary's port, name, user, \
         password and TLS mode)"
    )]
    ReadReplicaTwice,
    #[error("a read replica (DB_READ_URL or DB_READ_HOST) needs a PostgreSQL primary, but the database is {0}")]
    ReadReplicaWithoutPostgres(Backend),
    #[error("API_KEY_SHA256 entries must be 64 hex characters (a SHA-256 digest); entry {0} is not")]
    InvalidKeyDigest(usize),
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

    /// The same PostgreSQL target on another host: a read replica shares its primary's port, database, user,
    /// password and TLS mode (as RDS replicas do).
    pub fn with_host(&self, host: &str) -> Result<Self, ConfigError> {
        let options = match &self.postgres {
            Some(options) => options.clone(),
            None => {
                PgConnectOptions::from_str(self.expose()).map_err(|e| ConfigError::InvalidDatabaseUrl(e.to_string()))?
            }
        }
        .host(host);
        let redacted = format!(
            "postgres://{}@{host}:{}/{}",
            options.get_username(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );
        Ok(Self {
            backend: Backend::Postgres,
            url: redacted.clone().into(),
            postgres: Some(options),
            redacted,
        })
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

/// Where catalog reads go when a read replica is configured, and how far behind it may fall.
#[derive(Clone, Debug)]
pub struct ReadReplica {
    pub database: DatabaseUrl,
    /// Beyond this lag, reads go to the primary until the replica catches up.
    pub max_lag: Duration,
}

#[derive(Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub database: DatabaseUrl,
    pub database_source: DatabaseSource,
    pub read_replica: Option<ReadReplica>,
    pub store: StoreOptions,
    pub bind_address: String,
    pub port: u16,
    pub log_level: String,
    pub log_format: LogFormat,
    pub request_timeout: Duration,
    pub shutdown_grace: Duration,
    pub api_keys: ApiKeys,
}

impl Config {
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let production = settings.app_env == AppEnv::Production;
        let (database, database_source) = database(settings)?;
        if production && database.backend() != Backend::Postgres {
            return Err(ConfigError::ProductionWithoutPostgres(database.backend()));
        }
        let read_replica = read_replica(settings, &database)?;
        Ok(Self {
            app_env: settings.app_env,
            database,
            database_source,
            read_replica,
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
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }
}

/// The read replica, from DB_READ_URL or DB_READ_HOST (blank counts as unset: an environment with no replica may
/// pass an empty value).
fn read_replica(settings: &Settings, primary: &DatabaseUrl) -> Result<Option<ReadReplica>, ConfigError> {
    let given = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let (url, host) = (given(&settings.db_read_url), given(&settings.db_read_host));
    if url.is_none() && host.is_none() {
        return Ok(None);
    }
    if primary.backend() != Backend::Postgres {
        return Err(ConfigError::ReadReplicaWithoutPostgres(primary.backend()));
    }
    let database = match (url, host) {
        (Some(_), Some(_)) => return Err(ConfigError::ReadReplicaTwice),
        (Some(url), None) => {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                let scheme = url.split(':').next().unwrap_or_default();
                return Err(ConfigError::ReadUrlNotPostgres(format!("{scheme}:...")));
            }
            DatabaseUrl::parse(&url).map_err(|e| match e {
                ConfigError::InvalidDatabaseUrl(reason) => ConfigError::InvalidReadUrl(reason),
                other => other,
            })?
        }
        (None, Some(host)) => primary.with_host(&host)?,
        (None, None) => unreachable!("returned above"),
    };
    Ok(Some(ReadReplica {
        database,
        max_lag: Duration::from_secs(settings.db_read_max_lag_secs),
    }))
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
        // With the primary as a URL, the host replaces the URL's.
        let config = Config::from_settings(&settings(&[
            "--database-url",
            "postgres://u:secret@primary:5433/d",
            "--db-read-host",
            "replica",
            "--db-read-max-lag-secs",
            "30",
        ]))
        .unwrap();
        let replica = config.read_replica.unwrap();
        assert_eq!(replica.database.redacted(), "postgres://u@replica:5433/d");
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
