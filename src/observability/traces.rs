//! Traces over OTLP (HTTP/protobuf), on when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set and
//! off otherwise: the existing `tracing` spans (the request span, each store call's span) become the trace's spans
//! through `tracing-opentelemetry`, and an incoming W3C `traceparent` is continued ([`continue_trace`]). The rest
//! of the standard variables are the SDK's: `OTEL_SERVICE_NAME` (default `beer-catalog`), `OTEL_TRACES_SAMPLER` /
//! `OTEL_TRACES_SAMPLER_ARG`, `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_TIMEOUT`. Without `OTEL_TRACES_SAMPLER` a trace is
//! kept for [`DEFAULT_SAMPLE_RATIO`] of the requests that start one (and for every request whose caller's
//! `traceparent` says it samples), as X-Ray's default rule does: tracing every request of a busy task costs
//! about a third of its throughput (bench/run --telemetry, docs/performance.md), and a sample shows the same.
//!
//! Whether a request is traced is decided before its span exists ([`head_sampled`]), and an unsampled request's
//! spans never reach the OpenTelemetry layer (a per-layer filter on [`SAMPLED_TARGET`]): building a span for the
//! exporter, ids, attributes and the sampler's call included, costs more than the rest of a cache hit's tracing, so
//! the 95% of requests that are not kept pay only for the decision. The SDK then keeps whatever reaches it.
//!
//! The exporter never hurts the service: spans are queued in the SDK's batch processor (a bounded queue,
//! `OTEL_BSP_MAX_QUEUE_SIZE`, 2,048 by default, that drops when full) and sent from its own thread, so a collector
//! that is down or slow delays no request and grows no memory. A failing export is logged once, as a warning, and
//! its return once ([`QuietExporter`]); the SDK's own per-batch logs are not compiled in.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::DynFilterFn;
use tracing_subscriber::registry::LookupSpan;

use super::sampling::HeadSampler;

/// The share of requests traced when `OTEL_TRACES_SAMPLER` is unset (X-Ray's default rule samples 5% beyond its
/// first request a second).
pub const DEFAULT_SAMPLE_RATIO: f64 = 0.05;

/// The target of a request span that [`head_sampled`] kept: the only root span the exporter sees.
pub const SAMPLED_TARGET: &str = "beer_catalog::sampled";

/// The provider, kept to flush the queue at exit.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();
static PROPAGATOR: OnceLock<TraceContextPropagator> = OnceLock::new();
static SAMPLER: OnceLock<HeadSampler> = OnceLock::new();

/// Whether the environment asks for traces.
pub fn configured() -> bool {
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()))
}

/// Whether spans are exported (the log format then adds trace and span ids, requests continue `traceparent`).
pub fn enabled() -> bool {
    PROVIDER.get().is_some()
}

/// The layer that turns `tracing` spans into exported spans, when the environment configures an endpoint; `Err`
/// names what is wrong with the configuration (the service then runs without traces, saying why).
pub fn layer<S>() -> Result<Option<Box<dyn Layer<S> + Send + Sync>>, String>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
{
    if !configured() {
        return Ok(None);
    }
    // Protocol and endpoint from the standard variables; HTTP/protobuf is this build's one transport.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|error| format!("cannot set up the OTLP trace exporter: {error}"))?;
    let sampler = HeadSampler::from_env()?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").is_err() {
        resource = resource.with_service_name("beer-catalog");
    }
    let provider = SdkTracerProvider::builder()
        .with_resource(resource.build())
        .with_batch_exporter(QuietExporter::new(exporter))
        // The decision was taken before the request span existed (`head_sampled`): what reaches the SDK is kept.
        .with_sampler(Sampler::AlwaysOn)
        .build();
    let tracer = provider.tracer("beer-catalog");
    let _ = PROPAGATOR.set(TraceContextPropagator::new());
    if PROVIDER.set(provider).is_err() {
        return Ok(None);
    }
    let _ = SAMPLER.set(sampler);
    Ok(Some(
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            // Lean spans: no source locations or thread names on every span, no OpenTelemetry context made
            // current at each poll of a span's future (nothing here reads it: parents come from the span tree).
            .with_location(false)
            .with_threads(false)
            .with_tracked_inactivity(false)
            .with_context_activation(false)
            // A sampled request's span, the spans inside it, and the warnings and errors logged in them as their
            // events; nothing of an unsampled request, not every request's INFO line. (In a per-layer filter the
            // context's current span is the nearest one this filter let through.)
            .with_filter(DynFilterFn::new(|metadata, context| {
                if metadata.target() == SAMPLED_TARGET {
                    return true;
                }
                (metadata.is_span() || *metadata.level() <= tracing::Level::WARN) && context.lookup_current().is_some()
            }))
            .boxed(),
    ))
}

/// Sends what is queued and stops the exporter (at the end of `main`; bounded by the SDK's timeouts).
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get() {
        let _ = provider.shutdown();
    }
}

/// The caller's trace, when traces are on and the request carries a valid W3C `traceparent` (the ALB's or a
/// caller's); the request span continues it ([`continue_trace`]).
pub fn incoming_trace(headers: &axum::http::HeaderMap) -> Option<opentelemetry::Context> {
    let propagator = PROPAGATOR.get()?;
    if !headers.contains_key("traceparent") {
        return None;
    }
    let context = propagator.extract(&HeaderExtractor(headers));
    context.span().span_context().is_valid().then_some(context)
}

/// Whether the request is traced: `OTEL_TRACES_SAMPLER`'s rule applied to the caller's trace, if any. Always false
/// with traces off. A request span made for a sampled request has the target [`SAMPLED_TARGET`].
pub fn head_sampled(caller: Option<&opentelemetry::Context>) -> bool {
    let Some(sampler) = SAMPLER.get() else { return false };
    let caller = caller.map(|context| {
        let span = context.span();
        let span_context = span.span_context();
        (span_context.trace_id(), span_context.is_sampled())
    });
    sampler.decide(caller, rand::random::<f64>)
}

/// Makes a sampled request's span continue the caller's trace.
pub fn continue_trace(span: &tracing::Span, caller: opentelemetry::Context) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let _ = span.set_parent(caller);
}

/// The trace and span ids of the OpenTelemetry span behind a `tracing` span (hex, as X-Ray and the OTLP JSON
/// show them), when traces are on and the span is sampled into one (exported).
pub fn ids_of(span: &tracing::span::Id, dispatch: &tracing::Dispatch) -> Option<(String, String)> {
    if !enabled() {
        return None;
    }
    let context = tracing_opentelemetry::get_otel_context(span, dispatch)?;
    let span = context.span();
    let span_context = span.span_context();
    // An unsampled request's ids lead to no trace: not worth the bytes on every line.
    span_context
        .is_sampled()
        .then(|| (span_context.trace_id().to_string(), span_context.span_id().to_string()))
}

struct HeaderExtractor<'a>(&'a axum::http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

/// An exporter that logs the first failure of a run of failures, once, and the recovery once: a collector that is
/// down must not produce a log line per batch (every 5 s, or per 512 spans), and the failures say nothing new.
#[derive(Debug)]
pub struct QuietExporter<E> {
    inner: E,
    failing: AtomicBool,
}

impl<E> QuietExporter<E> {
    pub fn new(inner: E) -> Self {
        Self {
            inner,
            failing: AtomicBool::new(false),
        }
    }
}

impl<E: SpanExporter> SpanExporter for QuietExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        let result = self.inner.export(batch).await;
        match &result {
            Err(error) if !self.failing.swap(true, Ordering::AcqRel) => tracing::warn!(
                %error,
                spans,
                "cannot export traces to the OTLP endpoint; spans are dropped until it answers (logged once)"
            ),
            Ok(()) if self.failing.swap(false, Ordering::AcqRel) => {
                tracing::info!("trace export works again")
            }
            _ => {}
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}
