//! `beer-catalog healthcheck`: the container's HEALTHCHECK (the runtime image has no curl or shell).

use std::time::Duration;

/// GETs `url` and reports whether it answered 200 within `timeout`.
pub async fn check(url: &str, timeout: Duration) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| e.to_string())?;
    let response = client.get(url).send().await.map_err(|e| format!("{url}: {e}"))?;
    match response.status() {
        reqwest::StatusCode::OK => Ok(()),
        status => Err(format!("{url}: answered {status}")),
    }
}

/// The command: checks `--url` (default: this port's `/health` on the loopback) and turns the answer into the
/// exit code, printing the reason only when unhealthy.
pub async fn run(args: &crate::cli::HealthcheckArgs, port: u16) -> std::process::ExitCode {
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| format!("http://127.0.0.1:{port}/health"));
    match check(&url, Duration::from_secs(args.timeout_secs)).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("unhealthy: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
