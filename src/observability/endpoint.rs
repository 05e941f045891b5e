//! The metrics listener (`METRICS_ADDR`): `GET /metrics` in the Prometheus text format, on a port of its own that
//! the load balancer and CDN never route to, so the public cannot read it and a scrape never competes with the API's
//! middleware (rate limit, cache, timeouts).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use super::Metrics;

/// How often recorded histogram samples are folded into their buckets while nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The bound metrics listener, until it is served.
pub struct MetricsEndpoint {
    listener: TcpListener,
    metrics: Metrics,
}

impl MetricsEndpoint {
    pub async fn bind(address: SocketAddr, metrics: Metrics) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on METRICS_ADDR={address}"))?;
        Ok(Self { listener, metrics })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until the task is aborted (the server stops it after its own shutdown).
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        let metrics = self.metrics.clone();
        tokio::spawn(async move {
            let upkeep = {
                let metrics = metrics.clone();
                async move {
                    let mut tick = tokio::time::interval(UPKEEP_INTERVAL);
                    loop {
                        tick.tick().await;
                        metrics.run_upkeep();
                    }
                }
            };
            let router = Router::new().route(
                "/metrics",
                get(move || {
                    let metrics = metrics.clone();
                    async move {
                        (
                            [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                            metrics.render(),
                        )
                            .into_response()
                    }
                }),
            );
            if let Ok(address) = self.listener.local_addr() {
                tracing::info!(%address, "metrics listening (GET /metrics)");
            }
            let serve = axum::serve(self.listener, router);
            tokio::select! {
                result = serve => if let Err(error) = result {
                    tracing::warn!(%error, "the metrics listener failed; the service goes on without it");
                },
                () = upkeep => {},
            }
        })
    }
}
