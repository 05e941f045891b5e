//! Seeing the service from inside: application metrics ([`Metrics`], served by [`endpoint`] on `METRICS_ADDR`)
//! and traces exported over OTLP ([`traces`], when `OTEL_EXPORTER_OTLP_ENDPOINT` is set). Below every other layer
//! but `domain`: the HTTP layer and the storage stack both record into it, and it knows neither.

pub mod endpoint;
mod metrics;
pub mod names;
mod sampling;
pub mod traces;

pub use endpoint::MetricsEndpoint;
pub use metrics::{DURATION_BUCKETS, Metrics, seconds};
