//! Turns parsed settings into a validated configuration. The rule that matters most: production never falls back
//! to a local database. "The app connected to localhost instead of RDS" is the failure this module makes
//! impossible; a missing setting is an error that names the variable.

use std::time::Duration;

use sqlx::postgres::PgSslMode;

use crate::cli::{AppEnv, LogFormat, ReadModel, Settings, SslMode};
use crate::domain::ImageLimits;
use crate::http::auth::{ApiKeys, InvalidKeyDigest};
use crate::http::cache::CacheOptions;
use crate::http::rate_limit::RateLimitConfig;
use crate::server::{ConnectionSettings, Deadlines};
use crate::storage::{Backend, DatabaseUrl, DatabaseUrlError, PostgresParts, StoreOptions, WarmupSettings};

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
    #[error("DB_READ_URL must be a postgres:// URL (a read replica is a PostgreSQL standby), got {0}")]
    ReadUrlNotPostgres(String),
    #[error("DB_READ_URL is not a valid URL: {0}")]
    InvalidReadUrl(#[source] url::ParseError),
    #[error(
        "DB_READ_HOST must be a host name or address alone, such as replica.example or 10.0.0.5 (the port, \
         database, user and password are the primary's; a whole URL goes in DB_READ_URL), got {host:?}: {reason}"
    )]
    InvalidReadHost {
        host: String,
        #[source]
        reason: url::ParseError,
    },
    #[error(
        "DB_READ_URL and DB_READ_HOST are both set: set one (DB_READ_HOST takes the primary's port, name, user, \
         password and TLS mode)"
    )]
    ReadReplicaTwice,
    #[error("a read replica (DB_READ_URL or DB_READ_HOST) needs a PostgreSQL primary, but the database is {0}")]
    ReadReplicaWithoutPostgres(Backend),
    #[error(transparent)]
    ApiKeys(#[from] InvalidKeyDigest),
    #[error("TRUSTED_PROXIES entries must be CIDRs (10.0.0.0/16) or addresses (10.0.0.7); {0:?} is neither")]
    InvalidTrustedProxy(String),
    #[error(
        "PUBLIC_BASE_URL must be an absolute http:// or https:// URL without query, fragment or credentials, \
         such as https://beers.example.com ({0})"
    )]
    InvalidPublicBaseUrl(String),
    #[error("{0} must be at least 1")]
    ZeroLimit(&'static str),
    #[error(
        "READ_MODEL_WARMUP_TIMEOUT_SECS must be at most {max} (seconds a starting server stays out of service while \
         its read model builds; a million beers take about 10 s), got {value}"
    )]
    WarmupTooLong { value: u64, max: u64 },
    #[error(
        "LOG_LEVEL must be a level (off, error, warn, info, debug, trace) or comma-separated directives \
         such as beer_catalog=debug,sqlx=warn; {directive:?} in {value:?} is neither{reason}"
    )]
    InvalidLogLevel {
        value: String,
        directive: String,
        /// The filter parser's complaint, when it had one (`: ...`).
        reason: String,
    },
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

/// Where the database setting came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DatabaseSource {
    Configured,
    /// Development with nothing configured: the local SQLite file, created, migrated and seeded on start.
    DevelopmentDefault,
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
    /// Client connections: the cap and the header-read and idle deadlines.
    pub connections: ConnectionSettings,
    pub api_keys: ApiKeys,
    pub read_model: ReadModel,
    /// Memory for the read model's copies of renderings (`READ_MODEL_DOCUMENT_BYTES`).
    pub read_model_document_bytes: u64,
    /// How long the read model's first build may hold the server out of service (`READ_MODEL_WARMUP_TIMEOUT_SECS`;
    /// tests may also hold the build).
    pub read_model_warmup: WarmupSettings,
    /// `None`: development derives it from the listening address; production requires it once images exist.
    pub public_base_url: Option<PublicBaseUrl>,
    pub image_limits: ImageLimits,
    /// Per-client request limit; tests shorten its window.
    pub rate_limit: RateLimitConfig,
    pub cache: CacheOptions,
    /// The metrics listener (`METRICS_ADDR`); `None`: no metrics.
    pub metrics_addr: Option<std::net::SocketAddr>,
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
                max_connections: nonzero(settings.db_max_connections, "DB_MAX_CONNECTIONS")?,
                connect_timeout: Duration::from_secs(nonzero(
                    settings.db_connect_timeout_secs,
                    "DB_CONNECT_TIMEOUT_SECS",
                )?),
            },
            bind_address: settings.bind_address.clone(),
            port: settings.port,
            log_level: log_level(&settings.log_level)?,
            log_format: settings
                .log_format
                .unwrap_or(if production { LogFormat::Json } else { LogFormat::Pretty }),
            request_timeout: Duration::from_secs(nonzero(settings.request_timeout_secs, "REQUEST_TIMEOUT_SECS")?),
            shutdown_grace: Duration::from_secs(settings.shutdown_grace_secs),
            connections: ConnectionSettings {
                max_connections: settings
                    .max_connections
                    .map(|cap| nonzero(cap, "MAX_CONNECTIONS"))
                    .transpose()?,
                deadlines: Deadlines {
                    header_read: Duration::from_secs(nonzero(
                        settings.header_read_timeout_secs,
                        "HEADER_READ_TIMEOUT_SECS",
                    )?),
                    idle: Duration::from_secs(nonzero(settings.keep_alive_timeout_secs, "KEEP_ALIVE_TIMEOUT_SECS")?),
                },
            },
            api_keys: ApiKeys::parse(settings.api_keys.as_deref(), settings.api_key_sha256.as_deref())?,
            read_model: settings.read_model,
            read_model_document_bytes: settings.read_model_document_bytes,
            read_model_warmup: WarmupSettings {
                timeout: warmup_timeout(settings.read_model_warmup_timeout_secs)?,
                hold: None,
            },
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
            rate_limit: RateLimitConfig {
                requests_per_window: settings.rate_limit_per_hour,
                window: RateLimitConfig::HOUR,
                trusted_proxies: RateLimitConfig::parse_trusted_proxies(settings.trusted_proxies.as_deref())
                    .map_err(ConfigError::InvalidTrustedProxy)?,
            },
            cache: CacheOptions {
                max_bytes: settings.cache_max_bytes,
                max_age_secs: settings.cache_max_age_secs,
            },
            metrics_addr: settings.metrics_addr,
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

fn nonzero<T: PartialEq + From<u8>>(value: T, name: &'static str) -> Result<T, ConfigError> {
    if value == T::from(0) {
        Err(ConfigError::ZeroLimit(name))
    } else {
        Ok(value)
    }
}

/// The most `READ_MODEL_WARMUP_TIMEOUT_SECS` may be: past ten minutes a task is not warming but stuck, and holding
/// it out of service longer only hides that (the ECS health check grace period must also cover it).
const MAX_WARMUP_TIMEOUT_SECS: u64 = 600;

fn warmup_timeout(secs: u64) -> Result<Duration, ConfigError> {
    if secs > MAX_WARMUP_TIMEOUT_SECS {
        return Err(ConfigError::WarmupTooLong {
            value: secs,
            max: MAX_WARMUP_TIMEOUT_SECS,
        });
    }
    Ok(Duration::from_secs(secs))
}

/// `LOG_LEVEL`, checked before logging starts. tracing's filter syntax takes a bare word as a target name with
/// every level enabled, so `warning` or `verbose` parse, enable nothing of this service's, and silence it: a
/// directive without `=` must be a level here (name a target as `target=level`).
fn log_level(value: &str) -> Result<String, ConfigError> {
    let invalid = |directive: &str, reason: String| ConfigError::InvalidLogLevel {
        value: value.to_owned(),
        directive: directive.to_owned(),
        reason,
    };
    for directive in value.split(',').map(str::trim) {
        let bare = !directive.contains('=');
        if directive.is_empty() || (bare && directive.parse::<tracing::level_filters::LevelFilter>().is_err()) {
            return Err(invalid(directive, String::new()));
        }
        if let Err(error) = tracing_subscriber::EnvFilter::builder().parse(directive) {
            return Err(invalid(directive, format!(": {error}")));
        }
    }
    Ok(value.to_owned())
}

/// The read replica, from DB_READ_URL or DB_READ_HOST (blank counts as unset: an environment with no replica may
/// pass an empty value).
fn read_replica(settings: &Settings, primary: &DatabaseUrl) -> Result<Option<ReadReplica>, ConfigError> {
    fn given(value: &Option<String>) -> Option<&str> {
        value.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
    let (url, host) = (given(&settings.db_read_url), given(&settings.db_read_host));
    if url.is_none() && host.is_none() {
        return Ok(None);
    }
    if primary.backend() != Backend::Postgres {
        return Err(ConfigError::ReadReplicaWithoutPostgres(primary.backend()));
    }
    let database = match (url, host) {
        (Some(_), Some(_)) => return Err(ConfigError::ReadReplicaTwice),
        (Some(url), None) => match DatabaseUrl::parse(url) {
            Ok(database) if database.backend() == Backend::Postgres => database,
            Ok(_) | Err(DatabaseUrlError::UnsupportedScheme(_)) => {
                let scheme = url.split(':').next().unwrap_or_default();
                return Err(ConfigError::ReadUrlNotPostgres(format!("{scheme}:...")));
            }
            Err(DatabaseUrlError::Invalid(reason)) => return Err(ConfigError::InvalidReadUrl(reason)),
        },
        (None, Some(host)) => primary.with_host(host).map_err(|e| match e {
            DatabaseUrlError::Invalid(reason) => ConfigError::InvalidReadHost {
                host: host.to_owned(),
                reason,
            },
            other => other.into(),
        })?,
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
mod tests;

/// The settings refused at start-up because they would silence the service or make no sense.
#[cfg(test)]
mod refusals;
