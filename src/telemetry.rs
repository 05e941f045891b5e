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

/// Installs the global subscriber. `level` is a level (`info`) or tracing directives (`beer_catalog=debug`), as
/// `Config` checked `LOG_LEVEL` (refusing words that would enable nothing); a value that still does not parse falls
/// back to `info` with a warning rather than silencing the service. With `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans
/// are also exported as traces ([`traces`]), and every JSON line written inside one carries its `trace_id` and
/// `span_id`.
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
        LogFormat::Json => json_lines(std::io::stderr).boxed(),
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

/// The production log lines: one JSON object a line, the event's fields at the top level, the current span's in
/// `span`, trace ids first when traced.
fn json_lines<S, W>(writer: W) -> impl Layer<S> + Send + Sync
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        // JSON fields (`.json()`), written by the line format below.
        .json()
        .event_format(WithTraceIds(
            Format::default()
                .json()
                .flatten_event(true)
                // The current span is spliced in by `WithTraceIds`, as stored (see there).
                .with_current_span(false)
                .with_span_list(false),
        ))
        .with_writer(writer)
}

/// The JSON line format with the current span's `trace_id` and `span_id` first, when traces are on: CloudWatch
/// Logs Insights then goes from a slow trace in X-Ray to its log lines (`filter trace_id = "..."`). The current
/// span's fields go in `span` (`span.route`, `span.request_id`, what the dashboards query) as the fmt layer stored
/// them, JSON text spliced in: tracing-subscriber's own `with_current_span` parses that text back into a map and
/// renders it again on every line, which was a tenth of a cache hit's instructions (docs/performance.md).
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
        let current = ctx.lookup_current();
        let ids = match (DISPATCH.get(), current.as_ref().map(|span| span.id())) {
            (Some(dispatch), Some(span)) => traces::ids_of(&span, dispatch),
            _ => None,
        };
        let Some(current) = current else {
            return self.0.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        // `line` is one JSON object and a newline; anything else is written as it is.
        let Some(object) = line
            .trim_end()
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
        else {
            return writer.write_str(&line);
        };
        if let Some((trace_id, span_id)) = ids {
            write!(writer, "{{\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\",")?;
        } else {
            writer.write_char('{')?;
        }
        writer.write_str(object)?;
        let extensions = current.extensions();
        let fields = extensions
            .get::<tracing_subscriber::fmt::FormattedFields<N>>()
            .and_then(|stored| stored.fields.trim().strip_prefix('{')?.strip_suffix('}'))
            .filter(|fields| !fields.trim().is_empty());
        let separator = if object.is_empty() { "" } else { "," };
        match fields {
            Some(fields) => writeln!(
                writer,
                "{separator}\"span\":{{{fields},\"name\":\"{}\"}}}}",
                current.name()
            ),
            None => writeln!(writer, "{separator}\"span\":{{\"name\":\"{}\"}}}}", current.name()),
        }
    }
}

/// Flushes what the trace exporter holds (at the end of the process).
pub fn shutdown() {
    traces::shutdown();
}

/// An error and its causes on one line (`outer: inner: root`), for log fields and the start-up error: each cause
/// once. Most error types name only their own level (the cause is their `source`), but some also print their
/// cause in their message (sqlx's `error returned from database: {0}` and `error communicating with database:
/// {0}`, and ours that quote a parse error): a cause whose text already ends the line is not repeated.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if text != message && !text.ends_with(&format!(": {message}")) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::error_chain;
    use crate::storage::{ConnectError, StoreError};

    /// A database's refusal as the driver carries it (sqlx's own types have no public constructor).
    #[derive(Debug, thiserror::Error)]
    #[error("database \"x\" does not exist")]
    struct MissingDatabase;

    impl sqlx::error::DatabaseError for MissingDatabase {
        fn message(&self) -> &str {
            "database \"x\" does not exist"
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn assert_once(text: &str, part: &str) {
        assert_eq!(text.matches(part).count(), 1, "{part:?} not exactly once in {text:?}");
    }

    /// Lines written by a layer, kept for a test to read.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<serde_json::Value> {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
        }
    }

    /// The lines `json_lines` writes carry what tracing-subscriber's own `with_current_span` would (the span's
    /// fields and name under `span`), inside a span, in a span without fields and outside any, and stay JSON
    /// whatever the field values.
    #[test]
    fn log_lines_carry_the_current_span_as_the_standard_json_format_does() {
        use tracing_subscriber::layer::SubscriberExt;
        let (ours, standard) = (Captured::default(), Captured::default());
        let (ours_writer, standard_writer) = (ours.clone(), standard.clone());
        let subscriber = tracing_subscriber::registry()
            .with(super::json_lines(move || ours_writer.clone()))
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(move || standard_writer.clone()),
            );
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(path = "/outside", "no span");
            let span = tracing::info_span!("request", request_id = "id \"quoted\"", route = "/beers/{id}");
            span.in_scope(|| tracing::info!(status = 200, note = "a \\ b", "request"));
            tracing::info_span!("bare").in_scope(|| tracing::warn!("inside a span without fields"));
        });
        let without_time = |line: &serde_json::Value| {
            let mut line = line.clone();
            line.as_object_mut().unwrap().remove("timestamp");
            line
        };
        let (ours, standard) = (ours.lines(), standard.lines());
        assert_eq!(ours.len(), 3);
        assert_eq!(ours[1]["span"]["route"], "/beers/{id}", "{}", ours[1]);
        assert_eq!(ours[1]["span"]["request_id"], "id \"quoted\"");
        for (line, reference) in ours.iter().zip(&standard) {
            assert_eq!(without_time(line), without_time(reference));
        }
    }

    #[test]
    fn a_chain_names_each_driver_error_once() {
        let reset = || sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let text = error_chain(&StoreError::Unavailable(reset()));
        assert!(
            text.starts_with("database unavailable: error communicating with database: "),
            "{text}"
        );
        assert_once(
            &text,
            &std::io::Error::from(std::io::ErrorKind::ConnectionReset).to_string(),
        );

        let missing = ConnectError {
            backend: crate::storage::Backend::Postgres,
            target: "postgres://app@db:5432/x".to_owned(),
            source: sqlx::Error::Database(Box::new(MissingDatabase)),
        };
        let text = error_chain(&missing);
        assert_eq!(
            text,
            "cannot connect to postgres database at postgres://app@db:5432/x: error returned from database: \
             database \"x\" does not exist"
        );
        let text = error_chain(&StoreError::Database(sqlx::Error::Database(Box::new(MissingDatabase))));
        assert_once(&text, "does not exist");

        let bad_url = url::Url::parse("postgres://[::1").unwrap_err();
        let text = error_chain(&sqlx::Error::Configuration(Box::new(bad_url)));
        assert_eq!(text, "error with configuration: invalid IPv6 address");
    }

    #[test]
    fn a_chain_through_anyhow_and_the_settings_names_each_cause_once() {
        let settings = |args: &[&str]| {
            let mut argv = vec!["beer-catalog"];
            argv.extend_from_slice(args);
            <crate::cli::Cli as clap::Parser>::try_parse_from(argv)
                .unwrap()
                .settings
        };
        let error = crate::config::Config::from_settings(&settings(&[
            "--database-url",
            "postgres://u@p/d",
            "--db-read-url",
            "postgres://[::1",
        ]))
        .err()
        .unwrap();
        let error = anyhow::Error::from(error).context("starting");
        assert_eq!(
            error_chain(error.as_ref()),
            "starting: DB_READ_URL is not a valid URL: invalid IPv6 address"
        );
        let error = crate::config::Config::from_settings(&settings(&["--database-url", "postgres://[::1"]))
            .err()
            .unwrap();
        assert_eq!(
            error_chain(&error),
            "DATABASE_URL is not a valid URL: invalid IPv6 address"
        );
    }
}
