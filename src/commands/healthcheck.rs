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
