//! Request metrics: answers by route template, method and status class, their duration, and the requests in
//! flight. Recorded by the request log middleware, where the route, the status and the latency are known anyway.
//! Labels are bounded: the matched route template (`/beers/{id}`, never the path), `unmatched` for paths no route
//! knows, the standard methods (anything else is `other`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use metrics::{Counter, Gauge, Histogram};

use crate::observability::{Metrics, names};

/// The route label of a request no route matched (404s of unknown paths, whatever the path).
pub const UNMATCHED: &str = "unmatched";

#[derive(Clone)]
pub struct RequestMetrics {
    metrics: Metrics,
    in_flight: Gauge,
    /// Each route's series, registered at its first request: later requests cost two atomic adds, not two
    /// registry lookups with labels built anew. Bounded by the route templates.
    routes: Arc<RwLock<HashMap<Box<str>, RouteSeries>>>,
}

const METHODS: [&str; 8] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"];
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// One route's series, by method (and status class), created when first used.
#[derive(Default)]
struct RouteSeries {
    requests: [[Option<Counter>; CLASSES.len()]; METHODS.len()],
    durations: [Option<Histogram>; METHODS.len()],
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
            routes: Arc::default(),
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
        let route = route.unwrap_or(UNMATCHED);
        let (method, class) = (method_index(method), class_index(status));
        let seconds = elapsed.as_secs_f64();
        {
            let routes = self.routes.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(series) = routes.get(route)
                && let (Some(requests), Some(duration)) = (&series.requests[method][class], &series.durations[method])
            {
                requests.increment(1);
                duration.record(seconds);
                return;
            }
        }
        let mut routes = self.routes.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let series = routes.entry(route.into()).or_default();
        let labels = |extra: Option<(&'static str, &'static str)>| {
            let mut labels = vec![("route", route.to_owned()), ("method", METHODS[method].to_owned())];
            labels.extend(extra.map(|(key, value)| (key, value.to_owned())));
            labels
        };
        series.requests[method][class]
            .get_or_insert_with(|| {
                let labels = labels(Some(("status_class", CLASSES[class])));
                self.metrics.counter(names::HTTP_REQUESTS, &labels)
            })
            .increment(1);
        series.durations[method]
            .get_or_insert_with(|| self.metrics.histogram(names::HTTP_REQUEST_DURATION, &labels(None)))
            .record(seconds);
    }
}

fn method_index(method: &Method) -> usize {
    let label = method_label(method);
    METHODS
        .iter()
        .position(|known| *known == label)
        .unwrap_or(METHODS.len() - 1)
}

fn class_index(status: StatusCode) -> usize {
    (usize::from(status.as_u16() / 100)).clamp(1, 5) - 1
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_bounded() {
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        for (status, class) in [
            (100, "1xx"),
            (204, "2xx"),
            (304, "3xx"),
            (429, "4xx"),
            (503, "5xx"),
            (599, "5xx"),
        ] {
            assert_eq!(CLASSES[class_index(StatusCode::from_u16(status).unwrap())], class);
        }
        assert_eq!(METHODS[method_index(&Method::from_bytes(b"BREW").unwrap())], "other");
        assert_eq!(METHODS[method_index(&Method::DELETE)], "DELETE");
    }
}
