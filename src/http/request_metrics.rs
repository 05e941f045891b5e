//! Request metrics: answers by route template, method and status class, their duration, and the requests in
//! flight. Recorded by the request log middleware, where the route, the status and the latency are known anyway.
//! Labels are bounded: the matched route template (`/beers/{id}`, never the path), `unmatched` for paths no route
//! knows, the standard methods (anything else is `other`).

use std::time::Duration;

use axum::http::{Method, StatusCode};
use metrics::Gauge;

use crate::observability::{Metrics, names};

/// The route label of a request no route matched (404s of unknown paths, whatever the path).
pub const UNMATCHED: &str = "unmatched";

#[derive(Clone)]
pub struct RequestMetrics {
    metrics: Metrics,
    in_flight: Gauge,
}

/// Counts a request as in flight until dropped (also when the client goes away and the request is cancelled).
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

impl RequestMetrics {
    pub fn new(metrics: &Metrics) -> Self {
        Self {
            metrics: metrics.clone(),
            in_flight: metrics.gauge(names::HTTP_IN_FLIGHT, &[] as &[(&str, &str)]),
        }
    }

    pub fn start(&self) -> InFlight {
        self.in_flight.increment(1.0);
        InFlight(self.in_flight.clone())
    }

    pub fn record(&self, route: Option<&str>, method: &Method, status: StatusCode, elapsed: Duration) {
        if !self.metrics.is_enabled() {
            return;
        }
        let route = route.unwrap_or(UNMATCHED).to_owned();
        let method = method_label(method);
        self.metrics
            .counter(
                names::HTTP_REQUESTS,
                &[
                    ("route", route.clone()),
                    ("method", method.to_owned()),
                    ("status_class", status_class(status).to_owned()),
                ],
            )
            .increment(1);
        self.metrics
            .histogram(
                names::HTTP_REQUEST_DURATION,
                &[("route", route), ("method", method.to_owned())],
            )
            .record(elapsed.as_secs_f64());
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_bounded() {
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        assert_eq!(status_class(StatusCode::NOT_MODIFIED), "3xx");
        assert_eq!(status_class(StatusCode::TOO_MANY_REQUESTS), "4xx");
        assert_eq!(status_class(StatusCode::SERVICE_UNAVAILABLE), "5xx");
    }
}
