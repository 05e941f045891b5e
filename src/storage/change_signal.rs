//! The catalog's change signal: a version number that moves on every change (the `catalog_version` row, bumped
//! by triggers, so any writer counts: another instance, an `import` process, raw SQL), read over a connection of
//! its own so a busy pool never delays it, and on PostgreSQL pushed on commit (`LISTEN` on the trigger's
//! `NOTIFY`). The [`VersionFollower`] keeps [`Freshness`] up to date from it in the background, so requests do not
//! have to read it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::task::JoinHandle;

use super::freshness::Freshness;
use super::{ReadDatabase, StoreError, StoreResult};
use crate::telemetry::error_chain;

/// How often the version is read (and, while the database is down, how often its return is probed).
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// A version read that takes longer is abandoned (its connection too): caching pauses rather than waits.
const READ_TIMEOUT: Duration = Duration::from_millis(500);

/// Reads the catalog version over a connection of its own.
#[async_trait]
pub trait VersionReader: Send {
    /// The catalog's current version.
    async fn version(&mut self) -> StoreResult<i64>;
}

/// Version changes as they commit, pushed by the database (PostgreSQL `LISTEN`). Only an accelerator: polling a
/// [`VersionReader`] alone keeps caches within their staleness bound.
#[async_trait]
pub trait VersionListener: Send {
    /// Waits for the next change notification. `Err` when the connection is lost; calling again reconnects.
    async fn next(&mut self) -> StoreResult<()>;
}

/// The background tasks that follow the change signal into a [`Freshness`]; dropping this stops them.
pub struct VersionFollower {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for VersionFollower {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

impl VersionFollower {
    /// Follows the version where reads are served (`reads`: not behind an outage guard, which would stop the
    /// probe that ends an outage): the poller, which is also the outage probe, and on PostgreSQL the listener that
    /// wakes it.
    pub fn start(reads: Arc<dyn ReadDatabase>, freshness: Arc<Freshness>) -> Self {
        let poller = tokio::spawn(poll(reads.clone(), freshness.clone()));
        let listener = tokio::spawn(listen(reads, freshness));
        Self {
            tasks: vec![poller, listener],
        }
    }
}

async fn poll(reads: Arc<dyn ReadDatabase>, freshness: Arc<Freshness>) {
    let mut reader: Option<Box<dyn VersionReader>> = None;
    let mut retried = false;
    loop {
        let ticket = freshness.issue();
        let connecting = reader.is_none();
        let read = tokio::time::timeout(READ_TIMEOUT, read_version(&*reads, &mut reader)).await;
        match read {
            Ok(Ok(version)) => {
                freshness.confirm(version, ticket);
                retried = false;
            }
            Ok(Err(error)) => {
                reader = None;
                // The follower's own connection may simply have been dropped (a failover, an idle timeout): try a
                // new one at once before declaring the database down.
                if error.is_unavailable() && !retried {
                    retried = true;
                    continue;
                }
                if error.is_unavailable() {
                    freshness.probe_failed(&error);
                } else {
                    tracing::warn!(
                        error = error_chain(&error),
                        "cannot read the catalog version: caching paused"
                    );
                }
            }
            Err(_) => {
                // The connection is mid-statement: start over on a new one.
                reader = None;
                tracing::debug!("the catalog version read timed out: caching paused until a read succeeds");
                if connecting {
                    slow_connect(&*reads, &freshness).await;
                }
            }
        }
        freshness.next_poll(POLL_INTERVAL).await;
    }
}

/// No connection within the read timeout: a database that accepts TCP connections is resuming (Aurora
/// Serverless v2 holds a connection while it wakes from a pause), one that refuses them or cannot be reached is
/// down (docs/operations.md, "A paused database").
async fn slow_connect(reads: &dyn ReadDatabase, freshness: &Freshness) {
    match reads.accepts_tcp().await {
        Some(Ok(())) => freshness.slow_to_answer("no PostgreSQL answer within the version read timeout, TCP accepted"),
        Some(Err(error)) => freshness.probe_failed(&StoreError::Unavailable(sqlx::Error::Io(error))),
        None => {}
    }
}

async fn read_version(reads: &dyn ReadDatabase, reader: &mut Option<Box<dyn VersionReader>>) -> StoreResult<i64> {
    if reader.is_none() {
        *reader = Some(reads.version_reader().await?);
    }
    reader.as_mut().expect("opened above").version().await
}

async fn listen(reads: Arc<dyn ReadDatabase>, freshness: Arc<Freshness>) {
    loop {
        let mut listener: Box<dyn VersionListener> = match reads.version_listener().await {
            Ok(Some(listener)) => listener,
            Ok(None) => return,
            Err(error) => {
                tracing::debug!(error = error_chain(&error), "cannot listen for catalog changes yet");
                tokio::time::sleep(POLL_INTERVAL).await;
                continue;
            }
        };
        while listener.next().await.is_ok() {
            freshness.poll_now();
        }
        // Notifications sent while the connection was lost are gone: have the version read again now.
        freshness.poll_now();
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
