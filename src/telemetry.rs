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
