//! Turns parsed settings into a validated configuration. The rule that matters most: production never falls back
//! to a local database. "The app connected to localhost instead of RDS" is the failure this module makes
//! impossible; a missing setting is an error that names the variable.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::cli::{AppEnv, LogFormat, Settings, SslMode};
use crate::domain::ImageLimits;
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
    #[error(
        "PUBLIC_BASE_URL must be an absolute http:// or https:// URL without query, fragment or credentials, \
         such as https://beers.example.com ({0})"
    )]
    InvalidPublicBaseUrl(String),
    #[error("{0} must be at least 1")]
    ZeroLimit(&'static str),
}

/// The URL clients reach the service at, validated: absolute http(s), no query, fragment or credentials, no
/// trailing slash (so `{base}/images/...` never doubles it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicBaseUrl(String);

impl PublicBaseUrl {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::InvalidPublicBaseUrl(format!("{reason}, got {text:?}"));
        let url = url::Url::parse(text.trim()).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("a host is required"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("a query or fragment cannot prefix paths"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("credentials do not belong in public links"));
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    /// The development default: where this process listens, as a browser on the same machine reaches it
    /// (`localhost` when bound to every interface).
    pub fn for_listener(address: std::net::SocketAddr) -> Self {
        let host = match address.ip() {
            ip if ip.is_unspecified() => "localhost".to_owned(),
            std::net::IpAddr::V4(ip) => ip.to_string(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        };
        Self(format!("http://{host}:{}", address.port()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
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
    /// `None`: development derives it from the listening address; production requires it once images exist.
    pub public_base_url: Option<PublicBaseUrl>,
    pub image_limits: ImageLimits,
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
            public_base_url: settings
                .public_base_url
                .as_deref()
                .filter(|url| !url.trim().is_empty())
                .map(PublicBaseUrl::parse)
                .transpose()?,
            image_limits: ImageLimits {
                max_bytes: nonzero(settings.image_max_bytes, "IMAGE_MAX_BYTES")?,
                max_dimension: nonzero(settings.image_max_dimension, "IMAGE_MAX_DIMENSION")?,
            },
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }
}

fn nonzero<T: PartialEq + From<u8>>(value: T, name: &'static str) -> Result<T, ConfigError> {
    if value == T::from(0) {
        Err(ConfigError::ZeroLimit(name))
    } else {
        Ok(value)
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
