//! What a backend records about its own calls, once the server attaches metrics to it (data jobs do not): each
//! call's duration by operation and its failures by kind, the time a catalog read waits for a pooled connection,
//! and, sampled at each scrape, the pool's idle and busy connections. Recorded here, in the backend, so that
//! every call counts once whichever layer made it (the read model's refreshes, the replica router's retries, the
//! outage guard's version reads).

use std::future::Future;
use std::sync::OnceLock;
use std::time::Instant;

use sqlx::pool::PoolConnection;

use crate::observability::{Metrics, names};
use crate::storage::{StoreError, StoreResult};

/// A backend's metrics, attached once (after connecting: the stack decides which pool a backend is).
#[derive(Default)]
pub(crate) struct Observer(OnceLock<Attached>);

struct Attached {
    metrics: Metrics,
    acquire: metrics::Histogram,
}

impl Observer {
    /// Records into `metrics` from now on, labelling the pool `pool` (`primary`, `replica`). A second attach is
    /// ignored.
    pub(crate) fn attach<DB: sqlx::Database>(
        &self,
        metrics: &Metrics,
        pool_label: &'static str,
        pool: &sqlx::Pool<DB>,
    ) {
        if !metrics.is_enabled() {
            return;
        }
        let attached = Attached {
            metrics: metrics.clone(),
            acquire: metrics.histogram(names::POOL_ACQUIRE_DURATION, &[("pool", pool_label)]),
        };
        if self.0.set(attached).is_err() {
            return;
        }
        let idle = metrics.gauge(names::POOL_CONNECTIONS, &[("pool", pool_label), ("state", "idle")]);
        let in_use = metrics.gauge(names::POOL_CONNECTIONS, &[("pool", pool_label), ("state", "in_use")]);
        // A pool handle is a shared reference: sampling a closed pool reads zeros.
        let pool = pool.clone();
        metrics.sample_on_render(move || {
            let (size, idle_now) = (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(u32::MAX));
            idle.set(f64::from(idle_now));
            in_use.set(f64::from(size.saturating_sub(idle_now)));
        });
    }

    /// Runs one store call, recording its duration and, when it fails, its kind.
    pub(crate) async fn observe<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        let Some(attached) = self.0.get() else {
            return call.await;
        };
        let started = Instant::now();
        let result = call.await;
        let labels = [("operation", operation)];
        attached
            .metrics
            .histogram(names::STORE_CALL_DURATION, &labels)
            .record(started.elapsed().as_secs_f64());
        if let Err(error) = &result {
            let labels = [("operation", operation), ("kind", error_kind(error))];
            attached.metrics.counter(names::STORE_ERRORS, &labels).increment(1);
        }
        result
    }

    /// A pooled connection, the wait for it recorded (also when it times out).
    pub(crate) async fn acquire<DB: sqlx::Database>(&self, pool: &sqlx::Pool<DB>) -> StoreResult<PoolConnection<DB>> {
        let started = Instant::now();
        let connection = pool.acquire().await;
        if let Some(attached) = self.0.get() {
            attached.acquire.record(started.elapsed().as_secs_f64());
        }
        Ok(connection?)
    }
}

/// The `kind` label of a failed call: whether it is worth a retry, in a word.
fn error_kind(error: &StoreError) -> &'static str {
    match error {
        StoreError::Unavailable(_) => "unavailable",
        StoreError::KnownDown => "known_down",
        StoreError::Resuming => "resuming",
        StoreError::Busy => "busy",
        StoreError::Conflict(_) => "conflict",
        StoreError::Database(_) => "database",
        StoreError::Migrate(_) => "migrate",
    }
}
