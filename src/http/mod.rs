//! The HTTP layer's router: every route and page, and the middleware ([`middleware`]) around them. Shared answers
//! (rendered JSON, errors in each API's shape, fallbacks) are in [`response`].

use std::time::Duration;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use crate::observability::Metrics;

mod around;
pub mod auth;
pub mod beers;
mod body_shape;
pub mod cache;
mod consistency;
pub mod drain;
pub mod encoding;
pub mod error;
pub mod export;
pub mod extract;
pub mod facets;
pub mod health;
pub mod images;
mod middleware;
pub mod openapi;
pub mod pages;
pub mod pagination;
mod params;
pub mod punk;
pub mod rate_limit;
pub mod recipes;
pub mod renditions;
pub mod request_metrics;
pub mod response;
pub mod state;
pub mod text_schema;

pub use auth::{ApiKeys, WritePolicy};
pub use cache::{CacheOptions, HttpCache};
pub use middleware::BODY_LIMIT_BYTES;
use middleware::with_middleware_and_cache;
use rate_limit::RateLimiter;
use request_metrics::RequestMetrics;
pub use state::{AppState, ImageSettings};

/// The whole application: routes, fallbacks and middleware, ready to serve; HTTP caching headers without a
/// response cache (see [`app_with_cache`]).
pub fn app(state: AppState, request_timeout: Duration, rate_limiter: RateLimiter) -> Router {
    app_with_cache(
        state,
        request_timeout,
        rate_limiter,
        HttpCache::headers_only(0),
        &Metrics::disabled(),
    )
}

/// The whole application with the given response cache, recording its requests into `metrics`, as the server
/// runs it.
pub fn app_with_cache(
    state: AppState,
    request_timeout: Duration,
    rate_limiter: RateLimiter,
    cache: HttpCache,
    metrics: &Metrics,
) -> Router {
    let (routes, _) = routes().split_for_parts();
    let routes = routes.merge(pages::router());
    with_middleware_and_cache(
        routes,
        request_timeout,
        rate_limiter,
        cache,
        RequestMetrics::new(metrics),
    )
    // Outermost: every error answer, even a timeout, a panic or a 429, becomes a page for a browser.
    .layer(around::AroundLayer(pages::HtmlErrors))
    .with_state(state)
}

/// Every route of the service, each registered with its OpenAPI documentation (utoipa-axum), so a route cannot
/// exist undocumented; [`openapi::api_doc`] is derived from this.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base_document())
        .merge(health::router())
        .merge(beers::router())
        .merge(recipes::router())
        .merge(export::router())
        .merge(facets::router())
        .merge(punk::router())
        .merge(images::router())
        .merge(renditions::router())
        .merge(openapi::router())
}

/// JSON fallbacks and the middleware stack around `routes` (public so tests can put it around routes of their
/// own, e.g. one that panics or never answers).
pub fn with_middleware(
    routes: Router<AppState>,
    request_timeout: Duration,
    rate_limiter: RateLimiter,
) -> Router<AppState> {
    with_middleware_and_cache(
        routes,
        request_timeout,
        rate_limiter,
        HttpCache::headers_only(0),
        RequestMetrics::new(&Metrics::disabled()),
    )
}
