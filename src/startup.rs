//! Building and running the server: open the store, bind the listener (port 0 works, for tests), serve until a
//! shutdown signal, drain in-flight requests within the grace period, close the pool.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::cli::ReadModel;
use crate::config::{Config, DatabaseSource, PublicBaseUrl};
use crate::http::{self, AppState, HttpCache, ImageSettings, WritePolicy};
use crate::storage::watch::{self, CatalogWatch, WatchedStore, Watcher};
use crate::storage::{self, DynStore};

/// Opens the store the configuration names, migrating it first when the configuration says so
/// ([`Config::migrates_on_open`]). The server and every data job open their store through here.
pub async fn open_store(config: &Config) -> anyhow::Result<DynStore> {
    let store = storage::connect(&config.database, &config.store).await?;
    if config.migrates_on_open() {
        store.migrate().await.context("migrating the database")?;
    }
    Ok(store)
}

pub struct Application {
    listener: TcpListener,
    store: DynStore,
    router: axum::Router,
    shutdown_grace: Duration,
    watcher: Watcher,
}

impl Application {
    /// Connects to the database and binds the port. In development the schema is migrated on start, and the local
    /// default SQLite file is seeded when empty, so `cargo run` serves a populated catalog at once.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let database = open_store(config).await?;
        tracing::info!(database = %config.database.redacted(), backend = %database.backend(), "connected to the database");
        // The watcher reads the real store; requests go through the wrapper that fails fast during an outage.
        let catalog_watch = CatalogWatch::new();
        let watcher = watch::spawn(database.clone(), catalog_watch.clone());
        let store: DynStore = Arc::new(WatchedStore::new(database, catalog_watch.clone()));
        if config.database_source == DatabaseSource::DevelopmentDefault {
            tracing::warn!(
                path = crate::config::DEV_SQLITE_URL,
                "DEVELOPMENT MODE: no database configured, using a local SQLite file (set DATABASE_URL or DB_HOST... \
                 for PostgreSQL; APP_ENV=production refuses to start without it)"
            );
            crate::seed::seed_if_empty(&store).await?;
        }
        // The server answers lists from the in-process read model (data jobs do not need one).
        let store: DynStore = match config.read_model {
            ReadModel::Memory => storage::IndexedStore::watching(store, catalog_watch.clone()),
            ReadModel::Database => store,
        };
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
        let public_base_url = public_base_url(config, &store, &listener).await?;
        let router = http::app_with_cache(
            AppState {
                store: store.clone(),
                write_policy,
                images: ImageSettings {
                    public_base_url: public_base_url.map(|url| url.as_str().to_owned()),
                    limits: config.image_limits,
                },
            },
            config.request_timeout,
            HttpCache::new(&config.cache, catalog_watch),
        );
        Ok(Self {
            listener,
            store,
            router,
            shutdown_grace: config.shutdown_grace,
            watcher,
        })
    }

    /// The store the server uses (tests read and write through it directly).
    pub fn store(&self) -> DynStore {
        self.store.clone()
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Serves until `shutdown` completes, then stops accepting and gives in-flight requests `shutdown_grace` to
    /// finish before returning anyway.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        tracing::info!(address = %self.listener.local_addr()?, "listening");
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let server = axum::serve(self.listener, self.router).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutdown requested: no new connections, finishing in-flight requests");
            let _ = stopping_tx.send(());
        });
        let grace = self.shutdown_grace;
        let deadline = async move {
            if stopping_rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            result = server => result.context("server error")?,
            () = deadline => tracing::warn!(grace_secs = grace.as_secs(), "grace period over: abandoning unfinished requests"),
        }
        // The watcher holds a pooled connection (PostgreSQL's listener): stop it before closing the pool.
        drop(self.watcher);
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The URL `image_url` links start with: `PUBLIC_BASE_URL`; in development, where this server listens. Production
/// has no sensible default (the listener is a private task address behind the load balancer), so it refuses to
/// start without one once the catalog holds images, rather than hand out links that cannot load.
async fn public_base_url(
    config: &Config,
    store: &DynStore,
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
    if store
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
