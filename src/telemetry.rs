//! Logging, set up once per process: JSON lines in production (CloudWatch Logs Insights parses them), readable
//! lines in development, always on stderr so stdout stays clean for command output.

use std::sync::OnceLock;

use tracing_subscriber::fmt::format::{Format, Json, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Layered, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::cli::LogFormat;
use crate::observability::traces;

/// The installed subscriber, for the log format to find the trace a log line belongs to (inside a formatter the
/// subscriber cannot be looked up: tracing hands out no dispatcher while one is dispatching).
static DISPATCH: OnceLock<tracing::Dispatch> = OnceLock::new();

/// Installs the global subscriber. `level` is a level (`info`) or tracing directives (`beer_catalog=debug`); an
/// invalid value falls back to `info` with a warning rather than silencing the service. With
/// `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are also exported as traces ([`traces`]), and every JSON line written
/// inside one carries its `trace_id` and `span_id`.
pub fn init(level: &str, format: LogFormat) {
    let (filter, invalid) = match EnvFilter::try_new(level) {
        Ok(filter) => (filter, None),
        Err(error) => (EnvFilter::new("info"), Some(error)),
    };
    // The filter is the subscriber's own (global), as before traces: a disabled callsite then costs nothing.
    type Filtered = Layered<EnvFilter, Registry>;
    let (exported, trace_error) = match traces::layer::<Filtered>() {
        Ok(layer) => (layer, None),
        Err(error) => (None, Some(error)),
    };
    let log_lines = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            // JSON fields (`.json()`), written by the line format below.
            .json()
            .event_format(WithTraceIds(
                Format::default()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            ))
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_writer(std::io::stderr).boxed(),
    };
    let layers: Vec<Box<dyn Layer<Filtered> + Send + Sync>> = exported.into_iter().chain([log_lines]).collect();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(filter).with(layers));
    let installed = dispatch.clone().try_init().is_ok();
    if installed {
        let _ = DISPATCH.set(dispatch);
    }
    if installed && let Some(error) = invalid {
        tracing::warn!(%error, level, "LOG_LEVEL is not a valid filter; using info");
    }
    if installed && let Some(error) = trace_error {
        tracing::warn!(%error, "traces are OFF");
    }
}

/// The JSON line format with the current span's `trace_id` and `span_id` first, when traces are on: CloudWatch
/// Logs Insights then goes from a slow trace in X-Ray to its log lines (`filter trace_id = "..."`).
struct WithTraceIds(Format<Json>);

impl<S, N> FormatEvent<S, N> for WithTraceIds
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let ids = match (DISPATCH.get(), ctx.lookup_current().map(|span| span.id())) {
            (Some(dispatch), Some(span)) => traces::ids_of(&span, dispatch),
            _ => None,
        };
        let Some((trace_id, span_id)) = ids else {
            return self.0.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        match line.strip_prefix('{') {
            Some(rest) => write!(writer, "{{\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\",{rest}"),
            None => writer.write_str(&line),
        }
    }
}

/// Flushes what the trace exporter holds (at the end of the process).
pub fn shutdown() {
    traces::shutdown();
}

/// An error and its causes on one line (`outer: inner: root`), for log fields: each error type's message names
/// only its own level (the cause is its `source`), so nothing repeats.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
