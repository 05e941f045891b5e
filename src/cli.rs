//! Command line and environment: every flag can also be set by the environment variable named next to it
//! (12-factor). This module only parses; [`crate::config`] decides what the values mean.
//!
//! The contract tests (`tests/infra_contract/`, `tests/container_contract.rs`, via `tests/support/service.rs`) read
//! the environment variable names from here through `Cli::command()`, so a task definition, `compose.yaml` or the
//! `Dockerfile` cannot set a variable the service does not read.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Default HTTP port; the container `EXPOSE`s it and the ECS task maps it.
pub const DEFAULT_PORT: u16 = 8080;

#[derive(Parser)]
#[command(
    name = "beer-catalog",
    version,
    about = "A beer catalog REST API, drop-in compatible with the Punk API v2"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,

    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Clone)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply the embedded schema migrations and exit (the one-off deploy task).
    Migrate,
    /// Load the built-in sample catalog if the catalog is empty.
    Seed,
    /// Import a JSON array of beers (Punk API v2 shape or this API's create shape), upserting by id, or a BeerXML /
    /// BeerJSON file of recipes (new beers).
    Import(ImportArgs),
    /// Write a synthetic catalog of N beers (the import format) for load tests and demos; the same seed writes
    /// the same beers.
    Generate(GenerateArgs),
    /// GET the local /health endpoint and exit 0 when it answers 200 (the container's HEALTHCHECK).
    Healthcheck(HealthcheckArgs),
    /// Create the PostgreSQL roles the service uses (schema owner for migrations, DML-only app role).
    /// Connects with the DB_* settings of an administrator, normally the RDS master user.
    ProvisionRoles(ProvisionRolesArgs),
}

#[derive(Args, Clone)]
pub struct ImportArgs {
    /// A JSON file holding an array of beers, or `-` for standard input; or a BeerXML (.xml) or BeerJSON file of
    /// one recipe or many (see docs/recipe-formats.md).
    #[arg(value_name = "FILE|-")]
    pub file: String,

    /// Validate every record and report, without writing anything.
    #[arg(long, env = "IMPORT_DRY_RUN")]
    pub dry_run: bool,

    /// Write nothing unless every record is valid (each invalid one is still reported). Without it the valid
    /// records are written and the invalid ones skipped; either way the writing is one transaction, so a failure
    /// or an interruption leaves the catalog as it was.
    #[arg(long, env = "IMPORT_ALL_OR_NOTHING")]
    pub all_or_nothing: bool,

    /// Also skip records with values outside the usual ranges (e.g. pH above 14), instead of importing them
    /// with a warning.
    #[arg(long, env = "IMPORT_STRICT")]
    pub strict: bool,

    /// Load each record's label image from this directory: the file named by the last segment of its
    /// `image_url` (`https://images.punkapi.com/v2/keg.png` -> DIR/keg.png), stored in the catalog.
    #[arg(long, env = "IMPORT_IMAGES", value_name = "DIR")]
    pub images: Option<std::path::PathBuf>,
}

#[derive(Args, Clone)]
pub struct GenerateArgs {
    /// How many beers.
    #[arg(value_name = "N")]
    pub count: u64,

    /// Seed of the random draws: the same seed and N write the same file.
    #[arg(long, env = "GENERATE_SEED", default_value_t = 1)]
    pub seed: u64,

    /// Id of the first beer; the others follow it.
    #[arg(long, env = "GENERATE_FIRST_ID", default_value_t = 1, value_parser = clap::value_parser!(i64).range(1..))]
    pub first_id: i64,

    /// Where to write; standard output when omitted or `-`.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<String>,
}

#[derive(Args, Clone)]
pub struct HealthcheckArgs {
    /// URL to check; defaults to http://127.0.0.1:$PORT/health.
    #[arg(long, env = "HEALTHCHECK_URL")]
    pub url: Option<String>,

    /// Seconds to wait for an answer.
    #[arg(long, env = "HEALTHCHECK_TIMEOUT_SECS", default_value_t = 3)]
    pub timeout_secs: u64,
}

#[derive(Args, Clone)]
pub struct ProvisionRolesArgs {
    /// Schema the application's tables live in; both roles get it as their search_path.
    #[arg(long, env = "DB_SCHEMA", default_value = "beer_catalog")]
    pub schema: String,

    /// Role that owns the schema and runs migrations.
    #[arg(long, env = "MIGRATOR_DB_USER", default_value = "beer_catalog_owner")]
    pub migrator_user: String,

    /// Password for the migrator role.
    #[arg(long, env = "MIGRATOR_DB_PASSWORD", hide_env_values = true)]
    pub migrator_password: String,

    /// Role the service connects as: data access (SELECT/INSERT/UPDATE/DELETE) only.
    #[arg(long, env = "APP_DB_USER", default_value = "beer_catalog_app")]
    pub app_user: String,

    /// Password for the application role.
    #[arg(long, env = "APP_DB_PASSWORD", hide_env_values = true)]
    pub app_password: String,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Where list filters and totals are evaluated.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReadModel {
    /// An in-process index of the filterable fields, rebuilt when the catalog changes (bounded time at a
    /// million beers; docs/performance.md); the database answers while it builds.
    Memory,
    /// SQL against the database for every list and count (no index memory; slow past ~100,000 beers).
    Database,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// Settings shared by every subcommand. Secrets are plain `String`s only until [`crate::config`] wraps them;
/// this type deliberately has no `Debug` so it cannot be logged by accident.
#[derive(Args, Clone)]
pub struct Settings {
    /// development: SQLite by default, seeded on first start, writes open. production: PostgreSQL required.
    #[arg(
        long = "env",
        env = "APP_ENV",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub app_env: AppEnv,

    /// sqlite://PATH or postgres://USER:PASS@HOST:PORT/DB. Overrides the DB_* variables.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// PostgreSQL host, used with DB_NAME, DB_USER, DB_PASSWORD when DATABASE_URL is not set.
    #[arg(long, env = "DB_HOST", global = true)]
    pub db_host: Option<String>,

    /// PostgreSQL port.
    #[arg(long, env = "DB_PORT", default_value_t = 5432, global = true)]
    pub db_port: u16,

    /// PostgreSQL database name.
    #[arg(long, env = "DB_NAME", global = true)]
    pub db_name: Option<String>,

    /// PostgreSQL user.
    #[arg(long, env = "DB_USER", global = true)]
    pub db_user: Option<String>,

    /// PostgreSQL password.
    #[arg(long, env = "DB_PASSWORD", hide_env_values = true, global = true)]
    pub db_password: Option<String>,

    /// TLS to PostgreSQL (RDS with rds.force_ssl needs at least `require`).
    #[arg(long, env = "DB_SSLMODE", value_enum, default_value = "prefer", global = true)]
    pub db_sslmode: SslMode,

    /// Largest number of pooled database connections (at least 1).
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = 10, global = true)]
    pub db_max_connections: u32,

    /// Seconds to wait for the database before failing (at least 1): the first connection at start-up, each
    /// request's wait for a pooled connection, SQLite's wait for its write lock. /ready does not wait for it: it
    /// answers within 2 s whatever this is.
    #[arg(long, env = "DB_CONNECT_TIMEOUT_SECS", default_value_t = 5, global = true)]
    pub db_connect_timeout_secs: u64,

    /// HTTP port.
    #[arg(long, env = "PORT", default_value_t = DEFAULT_PORT, global = true)]
    pub port: u16,

    /// Address to bind; 0.0.0.0 so a container's published port reaches it.
    #[arg(long = "bind", env = "BIND_ADDRESS", default_value = "0.0.0.0", global = true)]
    pub bind_address: String,

    /// Log filter: a level (off, error, warn, info, debug, trace) or comma-separated tracing directives
    /// (beer_catalog=debug,sqlx=warn; a target needs its `=level`). Anything else is refused at start-up.
    #[arg(long, env = "LOG_LEVEL", default_value = "info", global = true)]
    pub log_level: String,

    /// Log format; json in production, pretty in development when not set.
    #[arg(long, env = "LOG_FORMAT", value_enum, global = true)]
    pub log_format: Option<LogFormat>,

    /// Seconds a request may take before it is answered 503 (at least 1).
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 10, global = true)]
    pub request_timeout_secs: u64,

    /// Seconds to let in-flight requests finish after SIGTERM (below ECS's 30 s stop timeout).
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 20, global = true)]
    pub shutdown_grace_secs: u64,

    /// Client connections served at once; one over the cap is answered 503 and closed. Default: 1024, or fewer if
    /// the open-file limit (`ulimit -n`) cannot hold them beside the database connections.
    #[arg(long, env = "MAX_CONNECTIONS", global = true)]
    pub max_connections: Option<usize>,

    /// Seconds a client may take to send a request's headers (from their first byte) before it is disconnected.
    #[arg(long, env = "HEADER_READ_TIMEOUT_SECS", default_value_t = 10, global = true)]
    pub header_read_timeout_secs: u64,

    /// Seconds an idle keep-alive connection stays open. Above the ALB's 60 s idle timeout, so that the load
    /// balancer closes idle connections first (a server closing first can race a request on its way: a 502).
    #[arg(long, env = "KEEP_ALIVE_TIMEOUT_SECS", default_value_t = 75, global = true)]
    pub keep_alive_timeout_secs: u64,

    /// Comma-separated API keys accepted as `Authorization: Bearer <key>` for writes.
    #[arg(long, env = "API_KEYS", hide_env_values = true, global = true)]
    pub api_keys: Option<String>,

    /// Comma-separated hex SHA-256 digests of API keys, for keeping the keys themselves out of the environment.
    #[arg(long, env = "API_KEY_SHA256", hide_env_values = true, global = true)]
    pub api_key_sha256: Option<String>,

    /// Absolute URL clients reach this service at (e.g. https://beers.example.com), used to build `image_url`
    /// links. Development default: http://localhost:$PORT. Production: required once the catalog holds images.
    #[arg(long, env = "PUBLIC_BASE_URL", global = true)]
    pub public_base_url: Option<String>,

    /// Largest accepted image upload, in bytes.
    #[arg(long, env = "IMAGE_MAX_BYTES", default_value_t = 2 * 1024 * 1024, global = true)]
    pub image_max_bytes: usize,

    /// Largest accepted image width or height, in pixels (a small file must not decode into gigabytes).
    #[arg(long, env = "IMAGE_MAX_DIMENSION", default_value_t = 4096, global = true)]
    pub image_max_dimension: u32,

    /// Requests per client IP per hour (one fixed window, as the Punk API did); 0 disables. /health, /ready and
    /// the static /images/... and /assets/... are exempt. Per instance: the edge (WAF) holds the global limit.
    #[arg(long, env = "RATE_LIMIT_PER_HOUR", default_value_t = 3600, global = true)]
    pub rate_limit_per_hour: u32,

    /// Where list filters and totals are evaluated: `memory` (an in-process index) or `database` (SQL).
    #[arg(long, env = "READ_MODEL", value_enum, default_value = "memory", global = true)]
    pub read_model: ReadModel,

    /// Memory for the read model's copies of beers' stored JSON, in bytes: single beers and list pages are
    /// assembled from them instead of read from the database (each copy is checked against the beer's last write,
    /// so none is ever served stale). 0: every page is read from the database. Only with READ_MODEL=memory.
    #[arg(long, env = "READ_MODEL_DOCUMENT_BYTES", default_value_t = 16 * 1024 * 1024, global = true)]
    pub read_model_document_bytes: u64,

    /// Seconds a starting server may report itself warming (GET /ready and /started answer 503) while the read
    /// model's first build runs, so that the load balancer sends it no traffic before lists are fast. Past it, or
    /// when the build fails, the server reports ready anyway and answers from SQL until the build is done. 0: never
    /// wait; at most 600. Only with READ_MODEL=memory.
    #[arg(long, env = "READ_MODEL_WARMUP_TIMEOUT_SECS", default_value_t = 30, global = true)]
    pub read_model_warmup_timeout_secs: u64,

    /// Comma-separated CIDRs of proxies whose `X-Forwarded-For` is believed (behind the ALB: the VPC's). Unset:
    /// the header is never trusted and the client is the TCP peer.
    #[arg(long, env = "TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,

    /// Read replica as a URL (postgres://...); catalog reads go there, writes to the primary.
    #[arg(long, env = "DB_READ_URL", hide_env_values = true, global = true)]
    pub db_read_url: Option<String>,

    /// Read replica host; port, name, user, password and TLS as for DB_HOST (how ECS injects the RDS replica).
    #[arg(long, env = "DB_READ_HOST", global = true)]
    pub db_read_host: Option<String>,

    /// Replica lag, in seconds, beyond which reads fall back to the primary until it catches up.
    #[arg(long, env = "DB_READ_MAX_LAG_SECS", default_value_t = 5, global = true)]
    pub db_read_max_lag_secs: u64,

    /// Memory for the in-process response cache of public reads (lists, beers, images), in bytes; 0 disables it.
    /// Every write, by any instance or process, is visible within 1 s regardless.
    #[arg(long, env = "CACHE_MAX_BYTES", default_value_t = 16 * 1024 * 1024, global = true)]
    pub cache_max_bytes: u64,

    /// `Cache-Control: public, max-age=N` on public reads: how long clients and CDNs may reuse an answer without
    /// asking again (they revalidate cheaply with the ETag after that).
    #[arg(long, env = "CACHE_MAX_AGE_SECS", default_value_t = 5, global = true)]
    pub cache_max_age_secs: u32,

    /// Where to serve Prometheus metrics (`GET /metrics`), e.g. 0.0.0.0:9464 in a container: a listener of its
    /// own, never routed by the load balancer. Unset: no metrics are kept or served.
    #[arg(long, env = "METRICS_ADDR", global = true)]
    pub metrics_addr: Option<std::net::SocketAddr>,
}
