//! Logging, set up once per process: JSON lines in production (CloudWatch Logs Insights parses them), readable
//! lines in development, always on stderr so stdout stays clean for command output.

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Installs the global subscriber. `level` is a level (`info`) or tracing directives (`beer_catalog=debug`); an
/// invalid value falls back to `info` with a warning rather than silencing the service.
pub fn init(level: &str, format: LogFormat) {
    let (filter, invalid) = match EnvFilter::try_new(level) {
        Ok(filter) => (filter, None),
        Err(error) => (EnvFilter::new("info"), Some(error)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    if installed.is_ok()
        && let Some(error) = invalid
    {
        tracing::warn!(%error, level, "LOG_LEVEL is not a valid filter; using info");
    }
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
