//! HTTP caching for the read path: a strong `ETag` on every 200 GET that may be reused (all but `/health`,
//! `/ready`, `/started` and `random`, which are `no-store`) with `If-None-Match` answered 304,
//! `Cache-Control` saying who may reuse what, and an in-process response cache of public reads, bounded in bytes
//! and keyed by the canonical request.
//!
//! Freshness comes from the storage stack's [`Freshness`]: an entry remembers the catalog version confirmed when it
//! was built, and is served while that is the version confirmed within its freshness bound (under 1 s), so a write
//! by any instance or process shows everywhere within that bound. Across versions, the storage's [`ChangeFeed`]
//! (which beers each version step changed, from the database's change log) keeps an entry as long as no step
//! since changed what it was read from ([`validity`]): a write drops the answers it can change, not every one.
//! While the version cannot be read the cache is bypassed; while the database is down, entries are served stale
//! and say so (`Cache-Status`, RFC 9211). Writes and errors are never stored and carry `Cache-Control: no-store`.
//!
//! Text answers are sent in the coding the client accepts ([`encoding`]): each coding of an answer is compressed
//! once and kept beside it in the same bounded store, under the identity answer's content hash, with its own strong
//! `ETag` and `Vary: Accept-Encoding`. A HEAD is answered as the GET it asks about, less the body.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::domain::filter::DEFAULT_PER_PAGE;
use crate::observability::{Metrics, names};
use crate::storage::{ChangeFeed, Freshness};
use validity::{Now, Validity};
use variants::in_coding;

/// Bodies larger than this are passed through untouched (no ETag, never cached), not buffered.
const MAX_BUFFERED_BYTES: u64 = 8 * 1024 * 1024;

const CACHE_STATUS: HeaderName = HeaderName::from_static("cache-status");
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
const HIT: HeaderValue = HeaderValue::from_static("beer-catalog; hit");
const STALE_HIT: HeaderValue = HeaderValue::from_static("beer-catalog; hit; detail=stale-if-error");
const STORED: HeaderValue = HeaderValue::from_static("beer-catalog; fwd=uri-miss; stored");
const BYPASS: HeaderValue = HeaderValue::from_static("beer-catalog; fwd=bypass; detail=change-signal-unread");

mod service;
mod validity;
mod variants;

pub use service::CacheService;

#[derive(Clone, Debug)]
pub struct CacheOptions {
    /// Memory for stored answers, in bytes; 0 disables the response cache (HTTP caching headers stay).
    pub max_bytes: u64,
    /// `max-age` on public reads.
    pub max_age_secs: u32,
}

/// The middleware's state: the stored answers (when enabled), the freshness they are checked against, the header values.
#[derive(Clone)]
pub struct HttpCache(Arc<Inner>);

struct Inner {
    entries: Option<Entries>,
    freshness: Option<Arc<Freshness>>,
    /// Which beers each version step changed (with the read model; without it, an entry serves only at the version
    /// it was built at).
    feed: Option<Arc<ChangeFeed>>,
    public: HeaderValue,
    /// The confirmed version the entries were last cleared for, while no change feed vouches for them.
    cleared_for: AtomicI64,
    lookups: Lookups,
}

/// `response_cache_lookups_total` by outcome.
struct Lookups {
    hit: metrics::Counter,
    miss: metrics::Counter,
    stale: metrics::Counter,
}

impl Lookups {
    fn new(metrics: &Metrics) -> Self {
        let outcome = |outcome: &'static str| metrics.counter(names::CACHE_LOOKUPS, &[("outcome", outcome)]);
        Self {
            hit: outcome("hit"),
            miss: outcome("miss"),
            stale: outcome("stale"),
        }
    }
}

/// Counts the answers the cache evicts to stay within its bytes (quick_cache tells its lifecycle).
#[derive(Clone)]
struct CountEvictions(metrics::Counter);

impl quick_cache::Lifecycle<String, Arc<Stored>> for CountEvictions {
    type RequestState = ();

    fn begin_request(&self) -> Self::RequestState {}

    fn on_evict(&self, _state: &mut Self::RequestState, _key: String, _stored: Arc<Stored>) {
        self.0.increment(1);
    }

    fn end_request(&self, _state: Self::RequestState) {}
}

/// A stored 200 answer.
struct Stored {
    etag: HeaderValue,
    /// The handler's headers (content type, `X-Total-Count`, `Link`...), without the ones computed per answer.
    headers: HeaderMap,
    body: Bytes,
    /// When it may be served; `None` for compressed variants, found only by their content hash.
    validity: Option<Validity>,
}

impl Stored {
    fn serves(&self, now: Now, feed: Option<&ChangeFeed>) -> bool {
        self.validity
            .as_ref()
            .is_some_and(|validity| validity.serves(now, feed))
    }
}

/// Weighs an entry by what it holds, so `CACHE_MAX_BYTES` bounds the memory rather than a count.
#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<String, Arc<Stored>> for ByBytes {
    fn weight(&self, key: &String, stored: &Arc<Stored>) -> u64 {
        let headers: usize = stored
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 32)
            .sum();
        (key.len() + stored.body.len() + headers + 128) as u64
    }
}

/// What kind of GET a path is, for caching.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Kind {
    /// A public catalog read: cached, `public, max-age`.
    PublicRead,
    /// A different answer each time (`random`) or about this process (`/health`, `/ready`, `/started`): never reused.
    Volatile,
    /// Anything else (the OpenAPI document, pages): revalidated with the ETag.
    Other,
    /// Label images: content-addressed, so their handler answers its own validator and `immutable` caching,
    /// which no catalog version can make stale; stored under their path.
    Immutable,
    /// Page assets: content-addressed too, and compressed once per process by their handler, which picks the
    /// coding itself: passed through, never stored here (they are in memory already).
    Asset,
}

fn kind(path: &str) -> Kind {
    let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    if path.starts_with("/images/") {
        return Kind::Immutable;
    }
    if path.starts_with("/assets/") {
        return Kind::Asset;
    }
    let rest = path.strip_prefix("/v2").unwrap_or(path);
    match rest.strip_prefix("/beers") {
        Some("") => Kind::PublicRead,
        Some("/random") => Kind::Volatile,
        Some(id) if id.len() > 1 && !id[1..].contains('/') => Kind::PublicRead,
        _ if matches!(path, "/health" | "/ready" | "/started") => Kind::Volatile,
        // The ingredient facets, catalog reads like the lists they are filtered like.
        _ if matches!(path, "/hops" | "/malts" | "/yeasts" | "/foods") => Kind::PublicRead,
        _ => Kind::Other,
    }
}

/// The cache key: the path and the query pairs sorted by name (stable, so a repeated parameter keeps its order and
/// the same occurrence wins), without `page=1` and `per_page=25` when given once (they are the defaults).
fn canonical_key(uri: &Uri) -> String {
    let mut key = uri.path().to_owned();
    let Some(query) = uri.query() else { return key };
    let pairs: Vec<_> = url::form_urlencoded::parse(query.as_bytes()).collect();
    let once = |name: &str| pairs.iter().filter(|(k, _)| k == name).count() == 1;
    let default_per_page = DEFAULT_PER_PAGE.to_string();
    let (page_once, per_page_once) = (once("page"), once("per_page"));
    let is_default = |k: &str, v: &str| {
        (k == "page" && v == "1" && page_once) || (k == "per_page" && v == default_per_page && per_page_once)
    };
    let mut kept: Vec<_> = pairs.iter().filter(|(k, v)| !is_default(k, v)).collect();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    if !kept.is_empty() {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        serializer.extend_pairs(kept.iter().map(|(k, v)| (k, v)));
        key.push('?');
        key.push_str(&serializer.finish());
    }
    key
}

/// A strong validator: a 128-bit hash of the body (xxh3: fast enough to hash every answer, even uncached ones).
fn etag_for(body: &[u8]) -> HeaderValue {
    let hash = xxhash_rust::xxh3::xxh3_128(body);
    HeaderValue::from_str(&format!("\"{hash:032x}\"")).expect("hex is a valid header")
}

/// `If-None-Match` uses the weak comparison (RFC 9110 13.1.2): `W/` prefixes are ignored; `*` matches anything.
fn none_match(request_headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let etag = etag.as_bytes();
    request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").as_bytes() == etag)
}

type Entries = quick_cache::sync::Cache<String, Arc<Stored>, ByBytes, quick_cache::DefaultHashBuilder, CountEvictions>;
type FillGuard<'a> = quick_cache::sync::PlaceholderGuard<
    'a,
    String,
    Arc<Stored>,
    ByBytes,
    quick_cache::DefaultHashBuilder,
    CountEvictions,
>;

/// How long a request waits for another one computing the same answer before computing it itself.
const FILL_WAIT: Duration = Duration::from_secs(2);

/// How long a request waits for the change feed to know every step up to the confirmed version before looking
/// entries up (a patch takes milliseconds after a write; the read model itself waits as long for its index).
const FEED_WAIT: Duration = Duration::from_millis(200);

impl HttpCache {
    /// ETags, 304s and `Cache-Control` only, without a response cache (tests that do not run a storage stack).
    pub fn headers_only(max_age_secs: u32) -> Self {
        Self::build(None, None, None, max_age_secs, &Metrics::disabled())
    }

    /// The full cache, as the server runs it, counting into `metrics`; `options.max_bytes == 0` gives ETags and
    /// 304s only. With `feed`, entries survive the version steps that do not change them.
    pub fn new(
        options: &CacheOptions,
        freshness: Arc<Freshness>,
        feed: Option<Arc<ChangeFeed>>,
        metrics: &Metrics,
    ) -> Self {
        let entries = (options.max_bytes > 0).then(|| {
            // quick_cache splits its capacity into shards of at least 32 estimated items each, and an entry must
            // fit in one shard: estimating few, large items (lists of 47-157 KB) keeps
            // the shards few and large enough for them (16 MiB: at most 4 shards of 4 MiB).
            let estimated_items = usize::try_from(options.max_bytes / (128 * 1024))
                .unwrap_or(usize::MAX)
                .max(16);
            let evictions = CountEvictions(metrics.counter(names::CACHE_EVICTIONS, &[] as &[(&str, &str)]));
            quick_cache::sync::Cache::with(
                estimated_items,
                options.max_bytes,
                ByBytes,
                quick_cache::DefaultHashBuilder::default(),
                evictions,
            )
        });
        let cache = Self::build(entries, Some(freshness), feed, options.max_age_secs, metrics);
        let held = Arc::downgrade(&cache.0);
        let bytes = metrics.gauge(names::CACHE_BYTES, &[] as &[(&str, &str)]);
        metrics.sample_on_render(move || {
            if let Some(entries) = held.upgrade().as_ref().and_then(|inner| inner.entries.as_ref()) {
                bytes.set(entries.weight() as f64);
            }
        });
        cache
    }

    fn build(
        entries: Option<Entries>,
        freshness: Option<Arc<Freshness>>,
        feed: Option<Arc<ChangeFeed>>,
        max_age_secs: u32,
        metrics: &Metrics,
    ) -> Self {
        Self(Arc::new(Inner {
            entries,
            freshness,
            feed,
            public: HeaderValue::from_str(&format!("public, max-age={max_age_secs}")).expect("a valid header"),
            cleared_for: AtomicI64::new(i64::MIN),
            lookups: Lookups::new(metrics),
        }))
    }

    /// Without a change feed position (no read model, or its index not built yet) an entry serves only at the
    /// version it was built at: free the memory of the others at the first request that sees a new version. It
    /// also drops an answer stored under a version confirmed by the primary (after this task's write) but read
    /// from a replica that had not replayed it, when the version read from the replica comes back lower.
    fn clear_if_new(&self, entries: &Entries, version: i64) {
        if self.0.cleared_for.swap(version, Ordering::AcqRel) != version {
            entries.clear();
        }
    }
}

/// A stored answer; `cache_control` replaces the stored one when given (catalog answers store none).
async fn from_store(
    cache: &HttpCache,
    kind: Kind,
    stored: &Stored,
    request_headers: &HeaderMap,
    cache_control: Option<HeaderValue>,
    status: HeaderValue,
) -> Response {
    let mut headers = stored.headers.clone();
    headers.insert(header::ETAG, stored.etag.clone());
    if let Some(cache_control) = cache_control {
        headers.insert(header::CACHE_CONTROL, cache_control);
    }
    headers.insert(CACHE_STATUS, status);
    let (headers, body) = in_coding(cache, kind, request_headers, headers, stored.body.clone()).await;
    if none_match(request_headers, &headers[header::ETAG]) {
        return not_modified(&headers);
    }
    (headers, body).into_response()
}

/// A 304 carries the validators and caching headers of the 200 it stands for, and no body; every value of each
/// (a negotiated answer has `Vary: accept` and `Vary: accept-encoding`).
fn not_modified(headers: &HeaderMap) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    for name in [header::ETAG, header::CACHE_CONTROL, CACHE_STATUS, header::VARY] {
        for value in headers.get_all(&name) {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(uri: &str) -> String {
        canonical_key(&uri.parse().unwrap())
    }

    #[test]
    fn equivalent_queries_share_a_key() {
        assert_eq!(key("/v2/beers?page=1&per_page=25"), "/v2/beers");
        assert_eq!(
            key("/v2/beers?abv_gt=6&per_page=80"),
            key("/v2/beers?per_page=80&abv_gt=6")
        );
        assert_eq!(key("/beers?beer_name=punk%20ipa"), key("/beers?beer_name=punk+ipa"));
        assert_ne!(key("/beers?page=2"), key("/beers"));
        // The last occurrence wins in the parser: dropping a default among repeats would change the answer.
        assert_eq!(key("/beers?page=2&page=1"), "/beers?page=2&page=1");
        assert_ne!(key("/beers?abv_gt=5&abv_gt=6"), key("/beers?abv_gt=6&abv_gt=5"));
    }

    #[test]
    fn only_catalog_reads_are_public() {
        for path in [
            "/beers",
            "/v2/beers",
            "/v2/beers/",
            "/beers/1",
            "/v2/beers/106",
            "/hops",
            "/foods/",
        ] {
            assert!(kind(path) == Kind::PublicRead, "{path}");
        }
        for path in ["/beers/random", "/v2/beers/random", "/health", "/ready", "/started"] {
            assert!(kind(path) == Kind::Volatile, "{path}");
        }
        for path in ["/openapi.json", "/", "/beers/1/image/x"] {
            assert!(kind(path) == Kind::Other, "{path}");
        }
        assert!(kind("/images/ab.png") == Kind::Immutable);
        assert!(kind("/assets/style.0123abcd.css") == Kind::Asset);
        // Pages are rendered per request (never stored), revalidated with their ETag.
        for path in ["/catalog/1", "/catalog/new", "/docs"] {
            assert!(kind(path) == Kind::Other, "{path}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let etag = etag_for(b"[]");
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert!(!none_match(&headers, &etag));
        let listed = format!("\"other\", W/{}", etag.to_str().unwrap());
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&listed).unwrap());
        assert!(none_match(&headers, &etag));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(none_match(&headers, &etag));
    }
}
