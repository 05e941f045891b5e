//! The response cache as a tower layer: what a GET finds in the store is answered without the services inside it,
//! and what it does not is computed by them and stored (see the module documentation).
//!
//! A layer of its own rather than axum's `from_fn`, whose `Next` owns the services inside it and so clones and boxes
//! them on every request: here a hit, a write and an answer that is never stored are decided while the request
//! arrives, without waiting, and only a lookup that must wait (for the change feed to catch up, or for another
//! request computing the same answer) takes its own clone of the inner services.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, HttpBody as _};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quick_cache::sync::{EntryAction, EntryResult};
use tower::{Layer, Service, ServiceExt as _};

use super::validity::{Now, Validity};
use super::variants::{in_coding, without_body};
use super::{
    BYPASS, CACHE_STATUS, FEED_WAIT, FILL_WAIT, FillGuard, HIT, HttpCache, Kind, MAX_BUFFERED_BYTES, NO_CACHE,
    NO_STORE, STALE_HIT, STORED, Stored, canonical_key, etag_for, from_store, kind, none_match, not_modified,
};
use crate::storage::Position;
use crate::storage::dependencies::recording;

impl<S> Layer<S> for HttpCache {
    type Service = CacheService<S>;

    fn layer(&self, inner: S) -> CacheService<S> {
        CacheService {
            cache: self.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub struct CacheService<S> {
    cache: HttpCache,
    inner: S,
}

impl<S> Service<Request> for CacheService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let cache = self.cache.clone();
        // A HEAD gets the same validator, coding and length as the GET (a client checks them before fetching), from
        // the same stored answer; the body is dropped here rather than by the router.
        let head = request.method() == Method::HEAD;
        if head {
            *request.method_mut() = Method::GET;
        }
        let head_or_get = move |response: Response| Ok(if head { without_body(response) } else { response });
        if request.method() != Method::GET {
            // Writes: nothing of them may be reused.
            let answer = self.inner.call(request);
            return Box::pin(async move {
                let mut response = answered(answer).await;
                response.headers_mut().insert(header::CACHE_CONTROL, NO_STORE);
                Ok(response)
            });
        }
        match cache.look_up(&request) {
            Step::Hit(hit) => Box::pin(async move {
                let (kind, stored) = (hit.kind, &hit.stored);
                let response = from_store(&cache, kind, stored, request.headers(), hit.control, hit.status).await;
                head_or_get(response)
            }),
            Step::Forward(kind, fill) => {
                let request_headers = request.headers().clone();
                let answer = answered(self.inner.call(request));
                Box::pin(async move { head_or_get(forward(&cache, kind, request_headers, answer, fill).await) })
            }
            Step::Wait(wait) => {
                // The inner services are called after waiting: this request takes them, leaving a clone.
                let inner = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, inner);
                Box::pin(async move { head_or_get(wait.then_read(&cache, request, inner).await) })
            }
        }
    }
}

async fn answered<F: Future<Output = Result<Response, Infallible>>>(answer: F) -> Response {
    match answer.await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// What a GET needs, as far as can be told without waiting.
enum Step {
    /// A stored answer serves it.
    Hit(Hit),
    /// Computed by the inner services, then stored (or not) as `Fill` says.
    Forward(Kind, Fill<'static>),
    /// The store must be waited for: the change feed to reach the confirmed version, or another request computing
    /// the same answer.
    Wait(Wait),
}

struct Hit {
    kind: Kind,
    stored: Arc<Stored>,
    control: Option<HeaderValue>,
    status: HeaderValue,
}

struct Wait {
    kind: Kind,
    key: String,
    version: i64,
    /// The change feed's position, when it is at the confirmed version already (`None` inside: no feed, or no
    /// position yet); `None` when it is behind and must be waited for.
    position: Option<Option<Position>>,
}

impl HttpCache {
    /// Catalog answers are kept under their canonical request, label images under their path, each with when it may
    /// be served ([`super::validity`]). Label images: their URL names their content, and only a write can make one
    /// wrong (removing an image no beer uses any more), so they depend on any beer's change.
    fn look_up(&self, request: &Request) -> Step {
        let kind = kind(request.uri().path());
        let cached = matches!(kind, Kind::PublicRead | Kind::Immutable);
        let (true, Some(entries), Some(freshness)) = (cached, self.0.entries.as_ref(), self.0.freshness.as_ref())
        else {
            return Step::Forward(kind, Fill::Uncached);
        };
        let key = match kind {
            Kind::Immutable => format!("{IMMUTABLE_PREFIX}{}", request.uri().path()),
            // A negotiated path (`Accept: application/xml`...) keeps one answer per representation.
            _ => canonical_key(request.uri()) + crate::http::recipes::cache_variant(request.uri(), request.headers()),
        };
        let feed = self.0.feed.as_deref();
        let lookups = &self.0.lookups;
        if freshness.is_down() {
            // Stale-if-error: whatever was good at the last version read is the best answer there is.
            let now = Now::Down(freshness.last_version());
            if let Some(stored) = entries.get(key.as_str()).filter(|stored| stored.serves(now, feed)) {
                lookups.stale.increment(1);
                let control = (kind == Kind::PublicRead).then_some(NO_CACHE);
                return Step::Hit(Hit {
                    kind,
                    stored,
                    control,
                    status: STALE_HIT,
                });
            }
            lookups.miss.increment(1);
            return Step::Forward(kind, Fill::Uncached);
        }
        let Some(version) = freshness.current_version() else {
            lookups.miss.increment(1);
            return Step::Forward(kind, Fill::Bypass);
        };
        // Entries built before this version serve only once the feed knows every step up to it.
        let position = match feed.map(|feed| feed.position()) {
            Some(Some(position)) if position.version < version => None,
            Some(position) => Some(position),
            None => Some(None),
        };
        let wait = Wait {
            kind,
            key,
            version,
            position,
        };
        match wait.position {
            Some(position) => match self.hit_at(&wait, position) {
                Some(hit) => Step::Hit(hit),
                None => Step::Wait(wait),
            },
            None => Step::Wait(wait),
        }
    }

    /// The stored answer serving at the confirmed `version`, the change feed at `position`.
    fn hit_at(&self, wait: &Wait, position: Option<Position>) -> Option<Hit> {
        let entries = self.0.entries.as_ref()?;
        if position.is_none() {
            self.clear_if_new(entries, wait.version);
        }
        let now = Now::Confirmed(wait.version);
        let stored = entries
            .get(wait.key.as_str())
            .filter(|stored| stored.serves(now, self.0.feed.as_deref()))?;
        self.0.lookups.hit.increment(1);
        Some(Hit {
            kind: wait.kind,
            stored,
            control: (wait.kind == Kind::PublicRead).then(|| self.0.public.clone()),
            status: HIT,
        })
    }
}

impl Wait {
    /// After waiting for what it must: the stored answer, or the inner services' answer, stored.
    async fn then_read<S>(self, cache: &HttpCache, request: Request, inner: S) -> Response
    where
        S: Service<Request, Response = Response, Error = Infallible> + Send,
        S::Future: Send,
    {
        let feed = cache.0.feed.as_deref();
        let position = match (self.position, feed) {
            (Some(position), _) => position,
            (None, Some(feed)) => {
                let position = feed.reached(self.version, FEED_WAIT).await;
                if let Some(hit) = cache.hit_at(&self, position) {
                    return from_store(cache, hit.kind, &hit.stored, request.headers(), hit.control, hit.status).await;
                }
                position
            }
            (None, None) => None,
        };
        let (kind, version) = (self.kind, self.version);
        let Some(entries) = cache.0.entries.as_ref() else {
            return forward(
                cache,
                kind,
                request.headers().clone(),
                answered(inner.oneshot(request)),
                Fill::Uncached,
            )
            .await;
        };
        let now = Now::Confirmed(version);
        // Requests for the same answer wait for the first one to compute it, instead of all going to the database
        // after every change (quick_cache's placeholder guard); an entry that no longer serves is replaced.
        let lookup = entries.entry_async(self.key.as_str(), |_, stored| {
            if stored.serves(now, feed) {
                EntryAction::Retain(stored.clone())
            } else {
                EntryAction::ReplaceWithGuard
            }
        });
        let start = Start {
            signal: version,
            position,
        };
        let lookups = &cache.0.lookups;
        let fill = match tokio::time::timeout(FILL_WAIT, lookup).await {
            Ok(EntryResult::Retained(stored)) => {
                lookups.hit.increment(1);
                let public = (kind == Kind::PublicRead).then(|| cache.0.public.clone());
                return from_store(cache, kind, &stored, request.headers(), public, HIT).await;
            }
            Ok(EntryResult::Vacant(guard) | EntryResult::Replaced(guard, _)) => {
                lookups.miss.increment(1);
                Fill::Guard(guard, start)
            }
            Ok(EntryResult::Removed(..) | EntryResult::Timeout) | Err(_) => {
                lookups.miss.increment(1);
                Fill::Bypass
            }
        };
        let request_headers = request.headers().clone();
        forward(cache, kind, request_headers, answered(inner.oneshot(request)), fill).await
    }
}

/// The key prefix of label images and assets (catalog answers' keys start with their version number).
const IMMUTABLE_PREFIX: &str = "immutable ";

/// When a miss began computing its answer: the version confirmed and the change feed's position.
#[derive(Copy, Clone)]
struct Start {
    signal: i64,
    position: Option<Position>,
}

/// What to do with a 200 from the handler.
enum Fill<'a> {
    /// Nothing to store (not a cached kind, the cache is off, or the database is down).
    Uncached,
    /// Cacheable, but caching is suspended (the change signal cannot be vouched for): say so.
    Bypass,
    /// Store it under this guard, with when it may be served.
    Guard(FillGuard<'a>, Start),
}

/// Awaits the handler's answer; gives a 200 its validator and caching headers, stores it when asked, answers a
/// matching `If-None-Match` with 304. Errors get `no-store`.
async fn forward(
    cache: &HttpCache,
    kind: Kind,
    request_headers: HeaderMap,
    answer: impl Future<Output = Response>,
    fill: Fill<'_>,
) -> Response {
    // What a stored answer was read from decides which writes drop it.
    let (response, read) = match fill {
        Fill::Guard(..) => recording(answer).await,
        _ => (answer.await, Default::default()),
    };
    if response.status() != StatusCode::OK {
        // A dropped guard lets the next waiting request compute the answer itself.
        let mut response = response;
        if response.status().is_client_error() || response.status().is_server_error() {
            response.headers_mut().insert(header::CACHE_CONTROL, NO_STORE);
        }
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let cache_control = match kind {
        Kind::PublicRead => cache.0.public.clone(),
        Kind::Volatile => NO_STORE,
        Kind::Other | Kind::Immutable | Kind::Asset => {
            parts.headers.get(header::CACHE_CONTROL).cloned().unwrap_or(NO_CACHE)
        }
    };
    parts.headers.insert(header::CACHE_CONTROL, cache_control);
    if body.size_hint().upper().is_none_or(|upper| upper > MAX_BUFFERED_BYTES) {
        // Streamed or large: passed through as is.
        return Response::from_parts(parts, body);
    }
    let bytes = match axum::body::to_bytes(body, MAX_BUFFERED_BYTES as usize).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let cause = format!("reading the response body: {error}");
            return crate::http::error::ApiError::Internal(cause).into_response();
        }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    if kind == Kind::Volatile {
        // `no-store`: nothing may keep it, so nothing will revalidate it; a validator would be work for nobody.
        parts.headers.remove(header::ETAG);
        let (headers, body) = in_coding(cache, kind, &request_headers, parts.headers, bytes).await;
        parts.headers = headers;
        return Response::from_parts(parts, Body::from(body));
    }
    // Content-addressed answers carry their handler's validator (the content's SHA-256), which clients may hold.
    let etag = match parts.headers.get(header::ETAG) {
        Some(etag) if matches!(kind, Kind::Immutable | Kind::Asset) => etag.clone(),
        _ => etag_for(&bytes),
    };
    parts.headers.insert(header::ETAG, etag.clone());
    match fill {
        Fill::Uncached => {}
        Fill::Bypass => {
            parts.headers.insert(CACHE_STATUS, BYPASS);
        }
        Fill::Guard(guard, start) => {
            let mut headers = parts.headers.clone();
            for computed in [header::CONTENT_LENGTH, header::ETAG] {
                headers.remove(computed);
            }
            if kind != Kind::Immutable {
                // Set per answer: a hit during an outage is not `public`.
                headers.remove(header::CACHE_CONTROL);
            }
            let stored = Stored {
                etag: etag.clone(),
                headers,
                body: bytes.clone(),
                validity: Some(Validity::new(start.signal, start.position, read)),
            };
            let _ = guard.insert(Arc::new(stored));
            parts.headers.insert(CACHE_STATUS, STORED);
        }
    }
    let (headers, body) = in_coding(cache, kind, &request_headers, parts.headers, bytes).await;
    parts.headers = headers;
    if none_match(&request_headers, &parts.headers[header::ETAG]) {
        return not_modified(&parts.headers);
    }
    Response::from_parts(parts, Body::from(body))
}
