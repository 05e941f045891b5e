//! Building and running the server: open the store, bind the listener (port 0 works, for tests), fit the connection
//! cap under the open-file limit, serve until a shutdown signal, drain in-flight requests within the grace period,
//! close the pool.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

use crate::cli::ReadModel;
use crate::config::{Config, DatabaseSource, PublicBaseUrl};
use crate::http::rate_limit::RateLimiter;
use crate::http::{self, AppState, HttpCache, ImageSettings, WritePolicy};
use crate::observability::{Metrics, MetricsEndpoint};
use crate::server::{self, Budget, Deadlines};
use crate::storage::{self, Catalog, DynDatabase, ReadModelSettings, ReplicaSettings, StackSettings};

/// Opens the database the configuration names, migrating it first when the configuration says so
/// ([`Config::migrates_on_open`]). The server and every data job open their database through here.
pub async fn open_store(config: &Config) -> anyhow::Result<DynDatabase> {
    let store = storage::connect(&config.database, &config.store).await?;
    if config.migrates_on_open() {
        store.migrate().await.context("migrating the database")?;
    }
    Ok(store)
}

pub struct Application {
    listener: TcpListener,
    catalog: Catalog,
    router: axum::Router,
    budget: Budget,
    deadlines: Deadlines,
    shutdown_grace: Duration,
    /// The metrics listener, when `METRICS_ADDR` is set.
    metrics: Option<MetricsEndpoint>,
}

/// The storage stack the configuration asks for (see [`storage::stack`]).
fn stack_settings(config: &Config, metrics: &Metrics) -> StackSettings {
    StackSettings {
        metrics: metrics.clone(),
        replica: config.read_replica.as_ref().map(|replica| ReplicaSettings {
            primary: config.database.clone(),
            replica: replica.database.clone(),
            options: config.store.clone(),
            max_lag: replica.max_lag,
        }),
        // The server answers lists from the in-process read model (data jobs do not need one).
        read_model: match config.read_model {
            ReadModel::Memory => Some(ReadModelSettings {
                rendered_row_bytes: config.read_model_document_bytes,
                warmup: config.read_model_warmup.clone(),
            }),
            ReadModel::Database => None,
        },
    }
}

impl Application {
    /// Connects to the database and binds the port. In development the schema is migrated on start, and the local
    /// default SQLite file is seeded when empty, so `cargo run` serves a populated catalog at once.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let primary = open_store(config).await?;
        tracing::info!(database = %config.database.redacted(), backend = %primary.backend(), "connected to the database");
        if config.database_source == DatabaseSource::DevelopmentDefault {
            tracing::warn!(
                path = crate::config::DEV_SQLITE_URL,
                "DEVELOPMENT MODE: no database configured, using a local SQLite file (set DATABASE_URL or DB_HOST... \
                 for PostgreSQL; APP_ENV=production refuses to start without it)"
            );
            crate::seed::seed_if_empty(&primary).await?;
        }
        // Kept only when they can be read: without METRICS_ADDR every handle is a no-op.
        let metrics = match config.metrics_addr {
            Some(_) => Metrics::prometheus(&primary.backend().to_string()),
            None => Metrics::disabled(),
        };
        let catalog = storage::open(primary, &stack_settings(config, &metrics)).await?;
        if let Some(replica) = &config.read_replica {
            tracing::info!(
                replica = %replica.database.redacted(),
                max_lag_secs = replica.max_lag.as_secs(),
                "catalog reads go to the read replica while it is within the lag bound"
            );
        }
        let write_policy = WritePolicy::new(config.api_keys.clone(), config.is_production());
        match &write_policy {
            WritePolicy::Open => tracing::warn!("writes are OPEN: no API keys configured (development only)"),
            WritePolicy::Closed => tracing::warn!("writes are DISABLED: production without API_KEYS answers 403"),
            WritePolicy::Keys(_) => tracing::info!("writes require an API key"),
        }
        let address = format!("{}:{}", config.bind_address, config.port);
        let listener = TcpListener::bind(&address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        let budget = connection_budget(config)?;
        let public_base_url = public_base_url(config, &catalog, &listener).await?;
        let rate_limit = &config.rate_limit;
        match (rate_limit.requests_per_window, rate_limit.trusted_proxies.is_empty()) {
            (0, _) => tracing::warn!("rate limiting is DISABLED (RATE_LIMIT_PER_HOUR=0)"),
            (limit, true) => tracing::info!(limit, "rate limit per client IP (the TCP peer; no trusted proxies)"),
            (limit, false) => {
                tracing::info!(limit, proxies = ?rate_limit.trusted_proxies, "rate limit per client IP (X-Forwarded-For from trusted proxies)")
            }
        }
        let images = ImageSettings {
            public_base_url: public_base_url.map(|url| url.as_str().to_owned()),
            limits: config.image_limits,
        };
        let router = http::app_with_cache(
            AppState::new(catalog.clone(), write_policy, images),
            config.request_timeout,
            RateLimiter::with_metrics(rate_limit, &metrics),
            HttpCache::new(&config.cache, catalog.freshness(), catalog.change_feed(), &metrics),
            &metrics,
        );
        let metrics = match config.metrics_addr {
            Some(address) => Some(MetricsEndpoint::bind(address, metrics).await?),
            None => None,
        };
        Ok(Self {
            listener,
            catalog,
            router,
            budget,
            deadlines: config.connections.deadlines,
            shutdown_grace: config.shutdown_grace,
            metrics,
        })
    }

    /// The storage stack the server uses (tests read and write through it directly).
    pub fn catalog(&self) -> Catalog {
        self.catalog.clone()
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// The metrics listener's port, when there is one (`METRICS_ADDR`; port 0 works, for tests).
    pub fn metrics_port(&self) -> Option<u16> {
        let endpoint = self.metrics.as_ref()?;
        endpoint.local_addr().ok().map(|address| address.port())
    }

    /// Serves until `shutdown` completes, then stops accepting and gives in-flight requests `shutdown_grace` to
    /// finish before returning anyway.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        tracing::info!(
            address = %self.listener.local_addr()?,
            connections = %self.budget,
            header_read_timeout_secs = self.deadlines.header_read.as_secs(),
            keep_alive_timeout_secs = self.deadlines.idle.as_secs(),
            "listening"
        );
        // Scrapes go on through the grace period; the listener stops with the server.
        let metrics = self.metrics.map(MetricsEndpoint::spawn);
        // Outside the router, so routing sees the trimmed path: `/v2/beers/` answers as `/v2/beers` (no redirect:
        // some Punk clients build every URL with a trailing slash and do not follow redirects).
        let service = NormalizePathLayer::trim_trailing_slash().layer(self.router);
        let grace = self.shutdown_grace;
        let shutdown = async move {
            shutdown.await;
            tracing::info!("shutdown requested: no new connections, finishing in-flight requests");
        };
        let all_finished = server::serve(
            self.listener,
            service,
            self.budget.max_connections,
            self.deadlines,
            shutdown,
            grace,
        )
        .await;
        if !all_finished {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "grace period over: abandoning unfinished requests"
            );
        }
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        self.catalog.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The connection cap, fitted under the open-file limit beside the database pools (a replica has a pool of its own).
fn connection_budget(config: &Config) -> anyhow::Result<Budget> {
    let pools = if config.read_replica.is_some() { 2 } else { 1 };
    let database_connections = u64::from(config.store.max_connections) * pools;
    Ok(server::budget::fit(
        config.connections.max_connections,
        database_connections,
    )?)
}

/// The URL `image_url` links start with: `PUBLIC_BASE_URL`; in development, where this server listens. Production
/// has no sensible default (the listener is a private task address behind the load balancer), so it refuses to
/// start without one once the catalog holds images, rather than hand out links that cannot load.
async fn public_base_url(
    config: &Config,
    catalog: &Catalog,
    listener: &TcpListener,
) -> anyhow::Result<Option<PublicBaseUrl>> {
    if let Some(url) = &config.public_base_url {
        return Ok(Some(url.clone()));
    }
    if !config.is_production() {
        let url = PublicBaseUrl::for_listener(listener.local_addr()?);
        tracing::info!(
            public_base_url = url.as_str(),
            "image links use the listening address (set PUBLIC_BASE_URL to change)"
        );
        return Ok(Some(url));
    }
    if catalog
        .reads()
        .has_images()
        .await
        .context("checking whether the catalog holds images")?
    {
        anyhow::bail!(
            "APP_ENV=production needs PUBLIC_BASE_URL (the URL clients reach this service at, e.g. \
             https://beers.example.com) because the catalog holds images and image_url links must be absolute"
        );
    }
    tracing::warn!("PUBLIC_BASE_URL is not set: image uploads are refused until it is");
    Ok(None)
}

/// Resolves on SIGTERM (what ECS and `docker stop` send) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
