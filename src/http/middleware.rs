//! The middleware every request passes through, in order, around the routes: request id, request span and log line,
//! early-413 body draining, panics as 500s, CORS, the rate limit, the response cache, the timeout, the body limit
//! and read-your-writes.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;

use super::around::{Answer, Around, AroundLayer};
use super::cache::HttpCache;
use super::error::{ApiError, ErrorCause};
use super::rate_limit::{LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER, RateLimiter};
use super::request_metrics::RequestMetrics;
use super::response::{is_punk_path, method_not_allowed, not_found, panic_response, render};
use super::{AppState, consistency, drain};

/// Largest request body accepted (a beer is a few KiB); image uploads have their own limit, IMAGE_MAX_BYTES.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Headers a browser app may read from a cross-origin answer (beyond the CORS-safelisted ones): the pagination,
/// the rate limit (the Punk API exposed it; tutorial wrappers read it) and what a write or a retry needs.
const EXPOSED_HEADERS: [HeaderName; 9] = [
    LIMIT_HEADER,
    REMAINING_HEADER,
    RESET_HEADER,
    header::RETRY_AFTER,
    HeaderName::from_static("x-total-count"),
    header::LINK,
    header::LOCATION,
    header::ETAG,
    REQUEST_ID,
];

pub(super) fn with_middleware_and_cache(
    routes: Router<AppState>,
    request_timeout: Duration,
    rate_limiter: RateLimiter,
    cache: HttpCache,
    metrics: RequestMetrics,
) -> Router<AppState> {
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            // Listed outermost first.
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION]))
                // Plain functions over the request and the response, not `from_fn` middleware: that clones and boxes
                // the whole inner stack per request, which measurably slowed the cheapest routes (bench/run /health:
                // -12% when these two were one outer `from_fn`).
                .map_request(drop_unusable_request_id)
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(record_status)
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .map_response(nosniff)
                .map_response(errors_not_stored)
                .layer(AroundLayer(LogRequest(metrics)))
                // Outside everything that may answer before reading the body, so that answer reaches the client.
                .layer(AroundLayer(drain::FinishReadingBody))
                .layer(CatchPanicLayer::custom(panic_response))
                // A public catalog, as the Punk API was: any origin may read; writes still need a key. Listed, not
                // `*`, so that the headers are exposed on credentialed requests and to older browsers too.
                // No `Vary` from it: every origin, method and header is allowed (`*`), so no answer depends on the
                // request's `Origin` or preflight headers, and naming them would only split caches (and cost a
                // header value built per request: 2.5% of `/health`'s instructions, callgrind).
                .layer(CorsLayer::permissive().expose_headers(EXPOSED_HEADERS).vary([]))
                // Inside CORS: a 429 must be readable by the browser app that caused it. Outside the cache: a cached
                // answer counts against the limit like any other.
                .layer(AroundLayer(rate_limiter))
                // Inside the log line (hits are logged too) and CORS (added per request, not stored); outside the
                // timeout, so a hit never waits on anything.
                .layer(cache)
                .layer(AroundLayer(Timeout(request_timeout)))
                .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
                .layer(AroundLayer(consistency::WritesReadTheirWrites)),
        )
}

/// The longest client request id that is kept (a UUID is 36 characters; tracing systems use up to 64 or so).
const MAX_REQUEST_ID_LEN: usize = 128;

/// A client's `X-Request-Id` is echoed in the answer and written into every log line of the request, so only a
/// short id of plain characters (letters, digits, `-`, `_`, `.`, `:`, `/`, `+`, `=`) is kept; any other is
/// dropped, and the request gets a new one like a request without.
fn drop_unusable_request_id(mut request: Request) -> Request {
    let usable = |value: &HeaderValue| {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID_LEN
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(b))
    };
    if request.headers().get(&REQUEST_ID).is_some_and(|id| !usable(id)) {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// Every answer says its `Content-Type` is to be believed (JSON, problem details, images, pages alike), so no
/// browser sniffs an answer into something it can run.
fn nosniff(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    response
}

/// No error answer may be kept by a browser, proxy or CDN, wherever in the stack it was made: the cache layer marks
/// the ones passing through it, this the rest (a 429 from the rate limiter, a panic's 500, an early 413, a HEAD).
fn errors_not_stored(mut response: Response) -> Response {
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The span every event of a request is logged in: its id, method and route template (`/beers/{id}`, not the
/// concrete path, so requests group by operation; absent for unknown routes), and once answered its status. With
/// traces on it is the trace's server span, continuing the caller's trace when a `traceparent` names one.
fn request_span(request: &Request) -> tracing::Span {
    use crate::observability::traces;
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok());
    let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    // Two call sites, one span: a request the sampler keeps gets the target the trace exporter listens to, so an
    // unsampled one costs the exporter nothing, and only it has the fields that are for the trace alone.
    macro_rules! span {
        ($($target:expr)?; $($trace_only:tt)*) => {
            tracing::info_span!(
                $(target: $target,)?
                "request",
                request_id = request_id.unwrap_or_default(),
                method = %request.method(),
                route = route.unwrap_or_default(),
                $($trace_only)*
            )
        };
    }
    let caller = traces::incoming_trace(request.headers());
    if !traces::head_sampled(caller.as_ref()) {
        return span!(;);
    }
    let span = span!(traces::SAMPLED_TARGET; status = tracing::field::Empty, "otel.kind" = "server");
    if let Some(caller) = caller {
        traces::continue_trace(&span, caller);
    }
    span
}

/// The status on a traced request's span (the trace's attribute). Not on the others: the request's log line has
/// its own `status`, and recording a field into a span makes the JSON log format parse and re-render the span's
/// fields, which was 14% of a `/health` request's instructions (callgrind).
fn record_status<B>(response: &axum::http::Response<B>, _latency: Duration, span: &tracing::Span) {
    let traced = span
        .metadata()
        .is_some_and(|metadata| metadata.target() == crate::observability::traces::SAMPLED_TARGET);
    if traced {
        span.record("status", response.status().as_u16());
    }
}

/// One line per request: method, path, status, latency (no query strings, bodies or headers), and for a server-side
/// failure its cause, taken from the response ([`ErrorCause`]): the one place a 5xx is logged. Health checks log at
/// DEBUG: a load balancer polling them every few seconds would drown everything else. The request metrics are
/// recorded here too, from the same route, status and latency.
#[derive(Clone)]
struct LogRequest(RequestMetrics);

impl Around for LogRequest {
    fn around<A: Answer>(&self, request: Request, inner: impl FnOnce(Request) -> A) -> impl Answer {
        let metrics = self.0.clone();
        let started = Instant::now();
        let in_flight = metrics.start();
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let route = request.extensions().get::<MatchedPath>().cloned();
        let answer = inner(request);
        async move {
            let response = answer.await;
            drop(in_flight);
            metrics.record(
                route.as_ref().map(MatchedPath::as_str),
                &method,
                response.status(),
                started.elapsed(),
            );
            let status = response.status().as_u16();
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            let cause = response.extensions().get::<ErrorCause>().map(|cause| &*cause.0);
            if matches!(path.as_str(), "/health" | "/ready" | "/started") {
                tracing::debug!(%method, %path, status, latency_ms, cause, "request");
            } else if response.status().is_server_error() {
                tracing::warn!(%method, %path, status, latency_ms, cause, "request");
            } else {
                tracing::info!(%method, %path, status, latency_ms, "request");
            }
            response
        }
    }
}

/// Answers 503 with what to retry when the handler takes longer than the limit.
#[derive(Clone, Copy)]
struct Timeout(Duration);

impl Around for Timeout {
    fn around<A: Answer>(&self, request: Request, inner: impl FnOnce(Request) -> A) -> impl Answer {
        let limit = self.0;
        let punk = is_punk_path(request.uri());
        let answer = tokio::time::timeout(limit, inner(request));
        async move {
            match answer.await {
                Ok(response) => response,
                Err(_) => render(ApiError::Timeout(limit.as_secs()), punk),
            }
        }
    }
}
