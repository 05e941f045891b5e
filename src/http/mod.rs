//! The HTTP layer: routes, the middleware every request passes through, and JSON answers for everything,
//! including unknown routes, wrong methods, timeouts and panics.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, Method, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

pub mod auth;
pub mod beers;
pub mod cache;
pub mod drain;
pub mod error;
pub mod extract;
pub mod health;
pub mod images;
pub mod openapi;
mod params;
pub mod punk;
pub mod state;

pub use auth::{ApiKeys, WritePolicy};
pub use cache::{CacheOptions, HttpCache};
use error::{ApiError, ErrorCause};
pub use state::{AppState, ImageSettings};

/// Largest request body accepted (a beer is a few KiB); image uploads have their own limit, IMAGE_MAX_BYTES.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: routes, fallbacks and middleware, ready to serve; HTTP caching headers without a
/// response cache (see [`app_with_cache`]).
pub fn app(state: AppState, request_timeout: Duration) -> Router {
    app_with_cache(state, request_timeout, HttpCache::headers_only(0))
}

/// The whole application with the given response cache, as the server runs it.
pub fn app_with_cache(state: AppState, request_timeout: Duration, cache: HttpCache) -> Router {
    let (routes, _) = routes().split_for_parts();
    with_middleware_and_cache(routes, request_timeout, cache).with_state(state)
}

/// Every route of the service, each registered with its OpenAPI documentation (utoipa-axum), so a route cannot
/// exist undocumented; [`openapi::api_doc`] is derived from this.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base_document())
        .merge(health::router())
        .merge(beers::router())
        .merge(punk::router())
        .merge(images::router())
        .merge(openapi::router())
}

/// JSON fallbacks and the middleware stack around `routes` (public so tests can put it around routes of their
/// own, e.g. one that panics or never answers).
pub fn with_middleware(routes: Router<AppState>, request_timeout: Duration) -> Router<AppState> {
    with_middleware_and_cache(routes, request_timeout, HttpCache::headers_only(0))
}

fn with_middleware_and_cache(
    routes: Router<AppState>,
    request_timeout: Duration,
    cache: HttpCache,
) -> Router<AppState> {
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            // Listed outermost first.
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION]))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(request_span).on_failure(()))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(middleware::from_fn(log_request))
                // Outside everything that may answer before reading the body, so that answer reaches the client.
                .layer(middleware::from_fn(drain::finish_reading_body))
                .layer(CatchPanicLayer::custom(panic_response))
                // A public catalog, as the Punk API was: any origin may read; writes still need a key.
                .layer(CorsLayer::permissive())
                // Inside the log line (hits are logged too) and CORS (added per request, not stored); outside the
                // timeout, so a hit never waits on anything.
                .layer(middleware::from_fn_with_state(cache, cache::http_cache))
                .layer(middleware::from_fn_with_state(request_timeout, enforce_timeout))
                .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES)),
        )
}

/// The span every event of a request is logged in: its id, method and route template (`/beers/{id}`, not the
/// concrete path, so requests group by operation; absent for unknown routes).
fn request_span(request: &Request) -> tracing::Span {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok());
    let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    tracing::info_span!(
        "request",
        request_id = request_id.unwrap_or_default(),
        method = %request.method(),
        route = route.unwrap_or_default(),
    )
}

/// One line per request: method, path, status, latency (no query strings, bodies or headers), and for a server-side
/// failure its cause, taken from the response ([`ErrorCause`]): the one place a 5xx is logged. Health checks log at
/// DEBUG: a load balancer polling them every few seconds would drown everything else.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let cause = response.extensions().get::<ErrorCause>().map(|cause| &*cause.0);
    if matches!(path.as_str(), "/health" | "/ready") {
        tracing::debug!(%method, %path, status, latency_ms, cause, "request");
    } else if response.status().is_server_error() {
        tracing::warn!(%method, %path, status, latency_ms, cause, "request");
    } else {
        tracing::info!(%method, %path, status, latency_ms, "request");
    }
    response
}

async fn enforce_timeout(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let punk = is_punk_path(request.uri());
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => render(ApiError::Timeout(limit.as_secs()), punk),
    }
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    ApiError::Internal(format!("handler panicked: {message}")).into_response()
}

fn is_punk_path(uri: &Uri) -> bool {
    uri.path() == "/v2" || uri.path().starts_with("/v2/")
}

fn render(error: ApiError, punk: bool) -> Response {
    if punk { error.into_punk() } else { error.into_response() }
}

async fn not_found(uri: Uri) -> Response {
    render(
        ApiError::NotFound(format!("no route for {}", uri.path())),
        is_punk_path(&uri),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    render(
        ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path())),
        is_punk_path(&uri),
    )
}
