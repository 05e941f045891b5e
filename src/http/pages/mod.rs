//! The web pages: the catalog (`/`, `/catalog/{id}`), the editor (`/catalog/new`, `/catalog/{id}/edit`), the API
//! reference (`/docs`) and their assets (`/assets/...`). Server-rendered with maud (HTML checked by the compiler,
//! escaped by default); one small script adds what needs the API key (saving, image upload). The pages read the
//! catalog through the same store and query parsing as the API, so a page and the API never disagree.
//!
//! Also here: error answers as HTML pages for browsers ([`HtmlErrors`]), while every other client keeps getting
//! the API's JSON.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};
use sha2::{Digest, Sha256};

use crate::http::AppState;
use crate::http::around::{Answer, Around, AroundLayer};
use crate::http::error::ApiError;
use crate::storage::StoreError;

mod assets;
mod catalog;
mod catalog_form;
mod editor;
mod reference;

/// No inline script or style anywhere, nothing from another origin: a script injected into a page through some
/// future escaping bug would not run. `data:` images: none are used today, kept for placeholders.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; script-src 'self'; \
     style-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Largest error body converted to an HTML page (the API's error bodies are a few hundred bytes).
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The page routes. Not in the OpenAPI document: they are HTML for people, not part of the API contract (and the
/// API fuzzer, which reads that document, has no business with them).
pub fn router() -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(catalog::catalog_page))
        .route("/catalog/new", get(editor::new_page))
        .route("/catalog/{id}", get(catalog::beer_page))
        .route("/catalog/{id}/edit", get(editor::edit_page))
        .route("/docs", get(reference::docs_page))
        .layer(AroundLayer(PageHeaders));
    pages.merge(assets::router())
}

/// A rendered page: status and HTML.
pub struct Page {
    status: StatusCode,
    markup: Markup,
    retry_after: Option<&'static str>,
}

impl Page {
    fn ok(markup: Markup) -> Self {
        Self::with_status(StatusCode::OK, markup)
    }

    fn with_status(status: StatusCode, markup: Markup) -> Self {
        Page {
            status,
            markup,
            retry_after: None,
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            self.markup.into_string(),
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
        }
        response
    }
}

/// Why a page could not be shown: the API's own error (so the cause reaches the request log line the same way),
/// rendered as an HTML error page.
#[derive(Debug)]
pub struct PageError(ApiError);

impl PageError {
    fn not_found(message: String) -> Self {
        PageError(ApiError::NotFound(message))
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        PageError(ApiError::from(error))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let message = self.0.to_string();
        let (parts, _) = self.0.into_response().into_parts();
        let mut page = error_page(parts.status, &message).into_response();
        *page.extensions_mut() = parts.extensions;
        page
    }
}

/// An error as a page: what happened in words, the way back, and `Retry-After` when waiting helps.
fn error_page(status: StatusCode, message: &str) -> Page {
    let reason = status.canonical_reason().unwrap_or("Error");
    let advice = match status {
        StatusCode::NOT_FOUND => "The address may be mistyped, or the beer was removed.",
        StatusCode::SERVICE_UNAVAILABLE => {
            "The catalog cannot reach its database right now. Try again in a few seconds."
        }
        s if s.is_server_error() => "Something went wrong on our side; it has been logged.",
        _ => "Check the address and try again.",
    };
    let markup = layout(
        &format!("{} {reason}", status.as_u16()),
        Nav::None,
        html! {
            section.error-page aria-labelledby="error-title" {
                h1 #error-title { (status.as_u16()) " " (reason) }
                p.error-message { (capitalised(message)) "." }
                p { (advice) }
                p { a href="/" { "Back to the catalog" } }
            }
        },
    );
    let mut page = Page::with_status(status, markup);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        page.retry_after = Some("5");
    }
    page
}

fn capitalised(text: &str) -> String {
    let text = text.trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Which navigation entry is the current page.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Nav {
    Catalog,
    New,
    Docs,
    None,
}

/// What a search engine shows under the page's title: what the section is for.
fn description(current: Nav) -> &'static str {
    match current {
        Nav::Catalog | Nav::None => {
            "Browse and search a catalog of beers (style, ABV, IBU, recipe, food pairings and label), the same data \
             the catalog's REST API and its Punk API v2 compatible endpoints serve."
        }
        Nav::New => "Add a beer to the catalog: its recipe, figures and label image.",
        Nav::Docs => {
            "The beer catalog's REST API: every operation of /beers and the Punk API v2 compatible /v2/beers, \
             with parameters, answers and examples."
        }
    }
}

/// The frame around every page: skip link, header with navigation, main content, footer.
fn layout(title: &str, current: Nav, content: Markup) -> Markup {
    let nav_link = |href: &str, label: &str, this: Nav| {
        html! {
            @if current == this {
                a href=(href) aria-current="page" { (label) }
            } @else {
                a href=(href) { (label) }
            }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Beer catalog" }
                meta name="description" content=(description(current));
                link rel="icon" type="image/svg+xml" href=(assets::ICON.path());
                link rel="stylesheet" href=(assets::STYLE.path());
                script src=(assets::SCRIPT.path()) defer {}
            }
            body {
                a.skip-link href="#main" { "Skip to content" }
                header.site-header {
                    a.brand href="/" { "Beer catalog" }
                    nav aria-label="Main" {
                        (nav_link("/", "Catalog", Nav::Catalog))
                        (nav_link("/catalog/new", "Add a beer", Nav::New))
                        (nav_link("/docs", "API reference", Nav::Docs))
                    }
                }
                main #main tabindex="-1" { (content) }
                footer.site-footer {
                    p {
                        "Data served by this service's API: "
                        a href="/beers" { "/beers" } ", "
                        a href="/v2/beers" { "/v2/beers" } " (Punk API v2), "
                        a href="/openapi.json" { "/openapi.json" } "."
                    }
                }
            }
        }
    }
}

/// Headers every page carries: the content security policy, and an `ETag` over the body so a browser revalidating
/// gets a 304 instead of the page again. `no-cache` means "revalidate before reuse": the catalog changes with
/// every write, and a 304 costs one small round trip.
#[derive(Clone, Copy)]
struct PageHeaders;

impl Around for PageHeaders {
    fn around<A: Answer>(&self, request: Request, inner: impl FnOnce(Request) -> A) -> impl Answer {
        let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
        let cacheable = matches!(*request.method(), Method::GET | Method::HEAD);
        let answer = inner(request);
        async move {
            let response = answer.await;
            with_page_headers(response, if_none_match, cacheable).await
        }
    }
}

async fn with_page_headers(response: Response, if_none_match: Option<HeaderValue>, cacheable: bool) -> Response {
    let (mut parts, body) = response.into_parts();
    set_page_security_headers(&mut parts.headers);
    if !(cacheable && parts.status == StatusCode::OK) {
        return Response::from_parts(parts, body);
    }
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(%error, "reading a page body");
            return error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response();
        }
    };
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
    let etag_value = HeaderValue::from_str(&etag).expect("hex is a valid header");
    parts.headers.insert(header::ETAG, etag_value);
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if if_none_match.is_some_and(|value| etag_matches(&value, &etag)) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn set_page_security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
}

/// `If-None-Match` holds a list of tags (or `*`); weak tags (`W/"..."`) compare equal to strong ones for GET.
fn etag_matches(if_none_match: &HeaderValue, etag: &str) -> bool {
    let Ok(value) = if_none_match.to_str() else {
        return false;
    };
    value
        .split(',')
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

/// Browsers ask for `text/html` first; API clients ask for JSON or anything (`*/*`, curl's default, what `fetch`
/// sends). Only a request that names HTML and ranks it above JSON gets HTML, so no API client is surprised.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let (mut html_q, mut json_q) = (0.0_f32, 0.0_f32);
    for entry in accept.split(',') {
        let mut params = entry.split(';');
        let media = params.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = params
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "text/html" | "application/xhtml+xml" => html_q = html_q.max(q),
            "application/json" | "application/problem+json" | "application/*" => json_q = json_q.max(q),
            _ => {}
        }
    }
    html_q > 0.0 && html_q > json_q
}

/// Error answers of the API (JSON: problem details or the Punk shape) become HTML error pages when the request
/// prefers HTML: a person following a dead link sees a page, not JSON. Everything else passes untouched.
#[derive(Clone, Copy)]
pub struct HtmlErrors;

impl Around for HtmlErrors {
    fn around<A: Answer>(&self, request: Request, inner: impl FnOnce(Request) -> A) -> impl Answer {
        let wants_html = prefers_html(request.headers());
        let answer = inner(request);
        async move { as_html_error(answer.await, wants_html).await }
    }
}

async fn as_html_error(response: Response, wants_html: bool) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("application/problem+json"));
    if !(wants_html && is_json && (status.is_client_error() || status.is_server_error())) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let message = match axum::body::to_bytes(body, ERROR_BODY_LIMIT).await {
        Ok(bytes) => error_message(&bytes),
        Err(_) => None,
    }
    .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let page = error_page(status, &message).into_response();
    // The JSON answer's headers stay (`Cache-Control: no-store`, the rate limit's, CORS, `Retry-After`, the request
    // id...): the same error carries the same headers as a page; only the body and its description change.
    let (mut page_parts, page_body) = page.into_parts();
    let mut headers = parts.headers;
    for name in [header::CONTENT_TYPE, header::CONTENT_LENGTH] {
        headers.remove(&name);
    }
    for (name, value) in page_parts
        .headers
        .drain()
        .filter_map(|(name, value)| Some((name?, value)))
    {
        if name != header::RETRY_AFTER || !headers.contains_key(&name) {
            headers.insert(name, value);
        }
    }
    headers.append(header::VARY, HeaderValue::from_static("Accept"));
    set_page_security_headers(&mut headers);
    page_parts.headers = headers;
    Response::from_parts(page_parts, page_body)
}

/// The human-readable message of an API error body: `detail` (problem details) or `message` (Punk).
fn error_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    ["detail", "message"]
        .iter()
        .find_map(|key| value.get(key)?.as_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn browsers_get_html_and_api_clients_json() {
        // Chromium's and Firefox's navigation Accept headers.
        assert!(prefers_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
        )));
        assert!(prefers_html(&accept("text/html")));
        for api in [
            "*/*",
            "application/json",
            "application/json, text/html",
            "text/html;q=0.5, application/json",
            "text/html;q=0",
            "application/problem+json, text/html;q=0.9",
        ] {
            assert!(!prefers_html(&accept(api)), "{api}");
        }
        assert!(!prefers_html(&HeaderMap::new()));
    }

    #[test]
    fn etags_match_lists_weak_tags_and_star() {
        let tag = "\"abc\"";
        for matching in ["\"abc\"", "W/\"abc\"", "\"x\", \"abc\"", "*"] {
            assert!(etag_matches(&HeaderValue::from_static(matching), tag), "{matching}");
        }
        assert!(!etag_matches(&HeaderValue::from_static("\"abd\""), tag));
    }

    #[test]
    fn error_bodies_of_both_apis_give_their_message() {
        assert_eq!(
            error_message(br#"{"type":"about:blank","title":"Not Found","status":404,"detail":"no beer with id 9"}"#)
                .as_deref(),
            Some("no beer with id 9")
        );
        assert_eq!(
            error_message(br#"{"statusCode":404,"error":"Not Found","message":"No beer found that matches the ID 9"}"#)
                .as_deref(),
            Some("No beer found that matches the ID 9")
        );
        assert_eq!(error_message(b"not json"), None);
    }
}
