//! The service's metrics: one [`Metrics`] handle per server, cheap to clone, handed to each mechanism that has
//! something to count (the HTTP layer, the response cache, the rate limiter, the storage stack's layers and
//! backends). It records into its own Prometheus recorder (`metrics-exporter-prometheus`), not the `metrics`
//! crate's process-wide one: a test process runs many servers, and each must count only its own requests. A
//! server without `METRICS_ADDR` gets [`Metrics::disabled`], whose handles do nothing.
//!
//! Gauges that describe state rather than events (pool connections, the read model's lag, the replica's lag, the
//! rate limiter's table, the cache's bytes) are read when the exposition is rendered, by the samplers each
//! mechanism registers ([`Metrics::sample_on_render`]): they are exact at every scrape and cost nothing between.

use std::sync::{Arc, Mutex};

use metrics::{Counter, Gauge, Histogram, IntoLabels, Key, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use super::names::{self, CATALOGUE};

/// Histogram buckets, in seconds: 1 ms to 10 s, about three per decade, so a p50 or p99 between 1 ms and 10 s is
/// resolved within a factor of about 2 (every duration histogram of the service uses them).
pub const DURATION_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static METADATA: Metadata<'static> = Metadata::new("beer_catalog", Level::INFO, Some(module_path!()));

type Sampler = Box<dyn Fn() + Send + Sync>;

/// The recorder of one server, or nothing.
#[derive(Clone, Default)]
pub struct Metrics(Option<Arc<Exporter>>);

struct Exporter {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    samplers: Mutex<Vec<Sampler>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Metrics").field(&self.is_enabled()).finish()
    }
}

impl Metrics {
    /// Handles that record nothing (no `METRICS_ADDR`, data jobs, tests of other things).
    pub fn disabled() -> Self {
        Self(None)
    }

    /// A recorder of its own, every metric of the [`CATALOGUE`] described (the exposition's `# HELP` lines), and
    /// `build_info` set.
    pub fn prometheus(backend: &str) -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&DURATION_BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        for metric in CATALOGUE {
            let (name, unit, help) = (metric.name.into(), metric.unit, metric.help.into());
            match metric.kind {
                names::Kind::Counter => recorder.describe_counter(name, unit, help),
                names::Kind::Gauge => recorder.describe_gauge(name, unit, help),
                names::Kind::Histogram => recorder.describe_histogram(name, unit, help),
            }
        }
        let handle = recorder.handle();
        let metrics = Self(Some(Arc::new(Exporter {
            recorder,
            handle,
            samplers: Mutex::new(Vec::new()),
        })));
        metrics
            .gauge(
                names::BUILD_INFO,
                &[("version", env!("CARGO_PKG_VERSION")), ("backend", backend)].map(|(k, v)| (k, v.to_owned())),
            )
            .set(1.0);
        metrics
    }

    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    fn key(name: &'static str, labels: impl IntoLabels) -> Key {
        Key::from_parts(name, labels)
    }

    /// The counter `name` with `labels` (registered at first use; later calls return the same series).
    pub fn counter(&self, name: &'static str, labels: impl IntoLabels) -> Counter {
        match &self.0 {
            Some(exporter) => exporter.recorder.register_counter(&Self::key(name, labels), &METADATA),
            None => Counter::noop(),
        }
    }

    pub fn gauge(&self, name: &'static str, labels: impl IntoLabels) -> Gauge {
        match &self.0 {
            Some(exporter) => exporter.recorder.register_gauge(&Self::key(name, labels), &METADATA),
            None => Gauge::noop(),
        }
    }

    pub fn histogram(&self, name: &'static str, labels: impl IntoLabels) -> Histogram {
        match &self.0 {
            Some(exporter) => exporter
                .recorder
                .register_histogram(&Self::key(name, labels), &METADATA),
            None => Histogram::noop(),
        }
    }

    /// Runs `sampler` before each rendering, to set gauges from the state they describe. A sampler should hold
    /// its subject weakly: the metrics outlive nothing they observe.
    pub fn sample_on_render(&self, sampler: impl Fn() + Send + Sync + 'static) {
        if let Some(exporter) = &self.0 {
            exporter
                .samplers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(Box::new(sampler));
        }
    }

    /// The Prometheus text exposition (format 0.0.4) of everything recorded, after sampling the gauges; empty
    /// when disabled.
    pub fn render(&self) -> String {
        let Some(exporter) = &self.0 else {
            return String::new();
        };
        for sampler in exporter
            .samplers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            sampler();
        }
        exporter.handle.render()
    }

    /// Folds recorded histogram samples into their buckets; without it, samples taken while nobody scrapes would
    /// accumulate (the metrics endpoint runs it every few seconds).
    pub fn run_upkeep(&self) {
        if let Some(exporter) = &self.0 {
            exporter.handle.run_upkeep();
        }
    }
}

/// A duration in seconds, for histograms.
pub fn seconds(duration: std::time::Duration) -> f64 {
    duration.as_secs_f64()
}
