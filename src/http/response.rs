//! Answers shared by the routes and the middleware: JSON the store rendered, errors in the shape the path's API
//! speaks (Punk's under `/v2`, problem details elsewhere), and the JSON fallbacks for unknown routes, wrong methods
//! and panics.

use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// A 200 with JSON the store already rendered (see [`crate::storage::rendered`]): sent as is.
pub fn json_text(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response()
}

pub(super) fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    ApiError::Internal(format!("handler panicked: {message}")).into_response()
}

pub fn is_punk_path(uri: &Uri) -> bool {
    uri.path() == "/v2" || uri.path().starts_with("/v2/")
}

pub fn render(error: ApiError, punk: bool) -> Response {
    if punk { error.into_punk() } else { error.into_response() }
}

pub(super) async fn not_found(uri: Uri) -> Response {
    render(
        ApiError::NotFound(format!("no route for {}", uri.path())),
        is_punk_path(&uri),
    )
}

pub(super) async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    render(
        ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path())),
        is_punk_path(&uri),
    )
}
