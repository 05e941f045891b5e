//! Turns parsed settings into a validated configuration. The rule that matters most: production never falls back
//! to a local database. "The app connected to localhost instead of RDS" is the failure this module makes
//! impossible; a missing setting is an error that names the variable.

use std::time::Duration;

use sqlx::postgres::PgSslMode;

use crate::cli::{AppEnv, LogFormat, ReadModel, Settings, SslMode};
use crate::http::auth::{ApiKeys, InvalidKeyDigest};
use crate::storage::{Backend, DatabaseUrl, DatabaseUrlError, PostgresParts, StoreOptions};

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
    #[error(transparent)]
    DatabaseUrl(#[from] DatabaseUrlError),
    #[error(transparent)]
    ApiKeys(#[from] InvalidKeyDigest),
}

/// Where the database setting came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DatabaseSource {
    Configured,
    /// Development with nothing configured: the local SQLite file, created, migrated and seeded on start.
    DevelopmentDefault,
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
    pub read_model: ReadModel,
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
            read_model: settings.read_model,
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }

    /// Whether opening the store also applies the embedded migrations. In development that is a convenience; in
    /// production the deploy's `migrate` task owns the schema, and the service and data jobs run as the DML-only
    /// app role, which could not migrate anyway.
    pub fn migrates_on_open(&self) -> bool {
        !self.is_production()
    }
}

fn ssl_mode(mode: SslMode) -> PgSslMode {
    match mode {
        SslMode::Disable => PgSslMode::Disable,
        SslMode::Prefer => PgSslMode::Prefer,
        SslMode::Require => PgSslMode::Require,
        SslMode::VerifyCa => PgSslMode::VerifyCa,
        SslMode::VerifyFull => PgSslMode::VerifyFull,
    }
}

fn database(settings: &Settings) -> Result<(DatabaseUrl, DatabaseSource), ConfigError> {
    if let Some(url) = settings.database_url.as_deref().filter(|u| !u.trim().is_empty()) {
        return Ok((DatabaseUrl::parse(url)?, DatabaseSource::Configured));
    }
    fn given(value: &Option<String>) -> Option<&str> {
        value.as_deref().filter(|v| !v.is_empty())
    }
    let parts = [
        ("DB_HOST", given(&settings.db_host)),
        ("DB_NAME", given(&settings.db_name)),
        ("DB_USER", given(&settings.db_user)),
        ("DB_PASSWORD", given(&settings.db_password)),
    ];
    if let [(_, Some(host)), (_, Some(name)), (_, Some(user)), (_, Some(password))] = parts {
        let url = DatabaseUrl::from_parts(&PostgresParts {
            host,
            port: settings.db_port,
            name,
            user,
            password,
            ssl_mode: ssl_mode(settings.db_sslmode),
        });
        return Ok((url, DatabaseSource::Configured));
    }
    let missing: Vec<&str> = parts
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(name, _)| *name)
        .collect();
    let missing = missing.join(", ");
    if settings.app_env == AppEnv::Production {
        return Err(ConfigError::ProductionWithoutDatabase { missing });
    }
    if parts.iter().any(|(_, v)| v.is_some()) {
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
}
