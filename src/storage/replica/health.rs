//! Whether reads may go to the replica, and what `/ready` reports about it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::observability::{Metrics, names};

/// What the replica is doing, for `/ready` and operators.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaStatus {
    /// `None` while reads go to the replica; why they do not otherwise.
    pub fallback_reason: Option<String>,
    /// Replication lag at the last successful probe.
    pub lag: Option<Duration>,
    pub max_lag: Duration,
    /// Whether the server is a standby (`pg_is_in_recovery()`) at the last successful probe.
    pub in_recovery: Option<bool>,
    /// Switches from the replica to the primary since start.
    pub fallbacks: u64,
    pub reads_on_replica: u64,
    /// Catalog reads the primary served: during a fallback, within a write, or after failing on the replica.
    pub reads_on_primary: u64,
    /// Reads that failed on the replica and were answered by the primary.
    pub retried_on_primary: u64,
}

/// Whether reads may go to the replica, and the counts behind [`ReplicaStatus`].
#[derive(Debug)]
pub struct ReplicaHealth {
    pub(super) max_lag: Duration,
    /// Watched, so that reads waiting on a replica that just went away give up at once (see `read`).
    pub(super) in_use: tokio::sync::watch::Sender<bool>,
    observed: Mutex<Observed>,
    fallbacks: AtomicU64,
    pub(super) reads_on_replica: AtomicU64,
    pub(super) reads_on_primary: AtomicU64,
    pub(super) retried_on_primary: AtomicU64,
    metrics: HealthMetrics,
}

/// The replica's state as metrics: set where it changes.
#[derive(Debug)]
struct HealthMetrics {
    in_use: metrics::Gauge,
    lag: metrics::Gauge,
    unreachable: metrics::Counter,
    lagging: metrics::Counter,
}

#[derive(Debug, Default)]
struct Observed {
    fallback_reason: Option<String>,
    lag: Option<Duration>,
    in_recovery: Option<bool>,
}

impl ReplicaHealth {
    pub fn new(max_lag: Duration) -> Self {
        Self::with_metrics(max_lag, &Metrics::disabled())
    }

    /// Recording the replica's state into `metrics` (`replica_in_use`, `replica_lag_seconds`,
    /// `replica_fallbacks_total` by reason).
    pub fn with_metrics(max_lag: Duration, metrics: &Metrics) -> Self {
        let no_labels: &[(&str, &str)] = &[];
        let in_use = metrics.gauge(names::REPLICA_IN_USE, no_labels);
        in_use.set(1.0);
        let reason = |reason: &'static str| metrics.counter(names::REPLICA_FALLBACKS, &[("reason", reason)]);
        Self {
            max_lag,
            in_use: tokio::sync::watch::Sender::new(true),
            observed: Mutex::new(Observed::default()),
            fallbacks: AtomicU64::new(0),
            reads_on_replica: AtomicU64::new(0),
            reads_on_primary: AtomicU64::new(0),
            retried_on_primary: AtomicU64::new(0),
            metrics: HealthMetrics {
                in_use,
                lag: metrics.gauge(names::REPLICA_LAG, no_labels),
                unreachable: reason("unreachable"),
                lagging: reason("lagging"),
            },
        }
    }

    fn observed(&self) -> std::sync::MutexGuard<'_, Observed> {
        // A panic elsewhere while holding the lock leaves plain data behind; keep using it.
        self.observed.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn in_use(&self) -> bool {
        *self.in_use.borrow()
    }

    /// Sends reads to the primary. Logged and counted on the switch only; while already falling back, only the
    /// reason is brought up to date (a growing lag). `reason` is public (it is shown by `/ready`), so it names the
    /// kind of failure; the driver's error, which may name hosts and addresses, goes to the log line only.
    pub fn fall_back(&self, reason: String, error: Option<&dyn std::fmt::Display>) {
        let mut observed = self.observed();
        if observed.fallback_reason.is_none() {
            self.fallbacks.fetch_add(1, Ordering::SeqCst);
            // The reason's kind: its text may carry numbers (how far behind), which a label must not.
            if reason.starts_with("lagging") {
                self.metrics.lagging.increment(1);
            } else {
                self.metrics.unreachable.increment(1);
            }
            self.metrics.in_use.set(0.0);
            match error {
                Some(error) => {
                    tracing::warn!(%reason, %error, "read replica not usable: reads fall back to the primary")
                }
                None => tracing::warn!(%reason, "read replica not usable: reads fall back to the primary"),
            }
        }
        observed.fallback_reason = Some(reason);
        self.in_use.send_replace(false);
    }

    /// Sends reads to the replica again, logging the return once.
    pub fn back_in_use(&self) {
        let mut observed = self.observed();
        if let Some(reason) = observed.fallback_reason.take() {
            tracing::info!(after = %reason, "read replica healthy again: reads go to it");
        }
        self.metrics.in_use.set(1.0);
        self.in_use.send_replace(true);
    }

    pub(super) fn record_probe(&self, in_recovery: bool, lag: Duration) {
        let mut observed = self.observed();
        observed.in_recovery = Some(in_recovery);
        observed.lag = Some(lag);
        self.metrics.lag.set(lag.as_secs_f64());
    }

    pub fn status(&self) -> ReplicaStatus {
        let observed = self.observed();
        ReplicaStatus {
            fallback_reason: observed.fallback_reason.clone(),
            lag: observed.lag,
            max_lag: self.max_lag,
            in_recovery: observed.in_recovery,
            fallbacks: self.fallbacks.load(Ordering::SeqCst),
            reads_on_replica: self.reads_on_replica.load(Ordering::SeqCst),
            reads_on_primary: self.reads_on_primary.load(Ordering::SeqCst),
            retried_on_primary: self.retried_on_primary.load(Ordering::SeqCst),
        }
    }
}
