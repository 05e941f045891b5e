//! Rate limiting as the public Punk API did it: per client IP, one fixed window (3,600 requests an hour by
//! default), `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` on every answer, and a 429 with
//! `Retry-After` once the window's allowance is spent. `/health`, `/ready` and `/started` are never limited (the
//! load balancer polls them), nor are the immutable, content-addressed label images (`/images/...`) and page assets
//! (`/assets/...`): the Punk API served its images from a separate host its limit did not cover, and a page of 25
//! beers would otherwise spend 26 requests of the allowance.
//!
//! Hand-written rather than taken from `governor`/`tower_governor`: those implement GCRA, a smoothly refilling
//! bucket with no window, so they have no "requests left in this window" or "window ends at" to report, and the
//! Punk clients read exactly those headers. A fixed window is a counter per client and one deadline: a mutex over
//! a map is all it takes.
//!
//! Like Punk's (express-rate-limit's memory store), every client shares the same window boundaries: windows
//! follow one another from the server's start, and the counts are dropped when one ends, which also bounds the
//! memory to the clients seen within one window (and [`MAX_TRACKED_CLIENTS`] at most: past it, new clients share
//! one allowance, so a flood of addresses can neither exhaust memory nor walk around the limit). The limit is per
//! instance; the edge (the WAF in front of the ALB) holds the global one.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use ipnet::IpNet;

use super::around::{Answer, Around};
use super::error::ApiError;
use crate::observability::{Metrics, names};

pub const LIMIT_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-limit");
pub const REMAINING_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
pub const RESET_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// Distinct clients counted in one window, at most. Beyond it new clients share one allowance, the overflow
/// bucket (and a warning is logged once per window): an instance must not run out of memory to a flood of
/// addresses, nor wave them through uncounted (about 100,000 distinct `X-Forwarded-For` values, or two IPv6 /48s,
/// made every later client unlimited for the rest of the hour).
pub const MAX_TRACKED_CLIENTS: usize = 100_000;

/// Paths that are never limited: health checks.
const EXEMPT_PATHS: [&str; 3] = ["/health", "/ready", "/started"];
/// Path prefixes never limited: immutable static content, cheap to serve and cached at the edge.
const EXEMPT_PREFIXES: [&str; 2] = ["/images/", "/assets/"];

fn is_exempt(path: &str) -> bool {
    EXEMPT_PATHS.contains(&path) || EXEMPT_PREFIXES.iter().any(|prefix| path.starts_with(prefix))
}

/// The limiter's settings (`RATE_LIMIT_PER_HOUR`, `TRUSTED_PROXIES`); the window is one hour except in tests.
#[derive(Clone, Debug)]
pub struct RateLimitConfig {
    /// Requests per client per window; 0 disables limiting.
    pub requests_per_window: u32,
    pub window: Duration,
    /// Peers whose `X-Forwarded-For` is believed (the load balancer's subnets). Empty: the client is the peer.
    pub trusted_proxies: Vec<IpNet>,
}

impl RateLimitConfig {
    pub const HOUR: Duration = Duration::from_secs(3600);

    /// Parses `TRUSTED_PROXIES`: comma-separated CIDRs or single addresses; `Err` names the entry that is neither.
    pub fn parse_trusted_proxies(list: Option<&str>) -> Result<Vec<IpNet>, String> {
        list.unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| entry.to_owned())
            })
            .collect()
    }
}

/// The limiter shared by every request of one server (cheap to clone).
#[derive(Clone)]
pub struct RateLimiter {
    inner: Option<Arc<Limiter>>,
}

struct Limiter {
    limit: u32,
    window: Duration,
    trusted_proxies: Vec<IpNet>,
    max_clients: usize,
    current: Mutex<Window>,
    /// `rate_limit_decisions_total` by decision.
    allowed: metrics::Counter,
    limited: metrics::Counter,
}

struct Window {
    ends_at: Instant,
    /// The same moment as unix time, for `X-RateLimit-Reset`.
    ends_at_unix: Duration,
    counts: HashMap<IpAddr, u32>,
    /// Requests of the clients that found the table full, counted together against one client's limit.
    overflow: u32,
    overflow_logged: bool,
}

/// What the limiter decided for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds at which the current window ends (rounded up).
    pub reset_unix: u64,
    /// Whole seconds until then, at least 1.
    pub retry_after_secs: u64,
    /// This is the client's first refused request in the window (the one worth a log line).
    pub first_refusal: bool,
}

impl RateLimiter {
    pub fn new(config: &RateLimitConfig) -> Self {
        Self::with_metrics(config, &Metrics::disabled())
    }

    /// The limiter, counting its decisions and the clients it tracks into `metrics`.
    pub fn with_metrics(config: &RateLimitConfig, metrics: &Metrics) -> Self {
        if config.requests_per_window == 0 {
            return Self::disabled();
        }
        let window = config.window.max(Duration::from_millis(1));
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let limiter = Self {
            inner: Some(Arc::new(Limiter {
                limit: config.requests_per_window,
                window,
                trusted_proxies: config.trusted_proxies.clone(),
                max_clients: MAX_TRACKED_CLIENTS,
                current: Mutex::new(Window {
                    ends_at: Instant::now() + window,
                    ends_at_unix: since_epoch + window,
                    counts: HashMap::new(),
                    overflow: 0,
                    overflow_logged: false,
                }),
                allowed: metrics.counter(names::RATE_LIMIT_DECISIONS, &[("decision", "allowed")]),
                limited: metrics.counter(names::RATE_LIMIT_DECISIONS, &[("decision", "limited")]),
            })),
        };
        if let Some(limiter) = &limiter.inner {
            let limiter = Arc::downgrade(limiter);
            let tracked = metrics.gauge(names::RATE_LIMIT_CLIENTS, &[] as &[(&str, &str)]);
            metrics.sample_on_render(move || {
                if let Some(limiter) = limiter.upgrade() {
                    let window = limiter
                        .current
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    tracked.set(window.counts.len() as f64);
                }
            });
        }
        limiter
    }

    /// Lets every request through, without headers.
    pub fn disabled() -> Self {
        Self { inner: None }
    }
}

impl Limiter {
    /// Counts one request of `client` and says whether it may proceed.
    fn check(&self, client: IpAddr, now: Instant) -> Decision {
        let mut window = self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if now >= window.ends_at {
            // Skip the windows nobody used, so the boundaries stay on the server's schedule.
            let behind = now.duration_since(window.ends_at).as_nanos() / self.window.as_nanos();
            let step = self.window * u32::try_from(behind + 1).unwrap_or(u32::MAX);
            window.ends_at += step;
            window.ends_at_unix += step;
            // A fresh map, not `clear()`: a burst of clients must not keep its capacity allocated for good.
            window.counts = HashMap::new();
            window.overflow = 0;
            window.overflow_logged = false;
        }
        let key = client_key(client);
        let tracked = window.counts.len();
        let (count, tracked_client) = match window.counts.get_mut(&key) {
            Some(count) => {
                *count = count.saturating_add(1);
                (*count, true)
            }
            None if tracked < self.max_clients => {
                window.counts.insert(key, 1);
                (1, true)
            }
            None => {
                if !window.overflow_logged {
                    window.overflow_logged = true;
                    tracing::warn!(
                        clients = tracked,
                        "rate limiter: too many distinct clients this window; new ones share one allowance"
                    );
                }
                window.overflow = window.overflow.saturating_add(1);
                (window.overflow, false)
            }
        };
        let until_reset = window.ends_at.saturating_duration_since(now);
        Decision {
            allowed: count <= self.limit,
            // The overflow bucket's refusals are not one client's: the warning above said it once.
            first_refusal: tracked_client && count == self.limit.saturating_add(1),
            limit: self.limit,
            remaining: self.limit.saturating_sub(count),
            reset_unix: ceil_secs(window.ends_at_unix),
            retry_after_secs: ceil_secs(until_reset).max(1),
        }
    }
}

fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// What is counted: an IPv4 address, or an IPv6 /64 (one host or home network gets a whole /64, and counting
/// each of its addresses apart would let one client walk around the limit).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

/// The client behind a request. The TCP peer, unless the peer is a trusted proxy: then the right-most
/// `X-Forwarded-For` entry that is not a trusted proxy (entries further left were written by the client itself and
/// prove nothing). If every entry is trusted, or the next one is not an address, the left-most trusted hop seen is
/// the best there is.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|net| net.contains(ip));
    let mut client = peer.to_canonical();
    if !trusted(&client) {
        return client;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    for entry in entries.iter().rev() {
        let entry = entry.trim();
        let Some(ip) = entry
            .parse::<IpAddr>()
            .ok()
            .or_else(|| entry.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
        else {
            break;
        };
        client = ip.to_canonical();
        if !trusted(&client) {
            break;
        }
    }
    client
}

/// The middleware ([`Around`]): counts the request against its client and either passes it on or answers 429
/// (Punk's shape under `/v2`, problem details elsewhere); either way the answer carries the three headers.
impl Around for RateLimiter {
    fn around<A: Answer>(&self, request: Request, inner: impl FnOnce(Request) -> A) -> impl Answer {
        let decision = self.inner.as_deref().and_then(|limiter| limiter.decide(&request));
        let answer = match decision {
            Some((decision, Some(refusal))) => Err((decision, refusal)),
            Some((decision, None)) => Ok((Some(decision), inner(request))),
            None => Ok((None, inner(request))),
        };
        async move {
            let (decision, mut response) = match answer {
                Ok((decision, answer)) => (decision, answer.await),
                Err((decision, refusal)) => (Some(decision), refusal),
            };
            if let Some(decision) = decision {
                let headers = response.headers_mut();
                headers.insert(LIMIT_HEADER, HeaderValue::from(decision.limit));
                headers.insert(REMAINING_HEADER, HeaderValue::from(decision.remaining));
                headers.insert(RESET_HEADER, HeaderValue::from(decision.reset_unix));
            }
            response
        }
    }
}

impl Limiter {
    /// The decision for one request, with the 429 when it is refused; `None` when the request is not counted.
    fn decide(&self, request: &Request) -> Option<(Decision, Option<Response>)> {
        if is_exempt(request.uri().path()) {
            return None;
        }
        // Present whenever the server runs through `startup` (`into_make_service_with_connect_info`).
        let Some(peer) = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())
        else {
            tracing::debug!("rate limiter: no peer address on the request; not counted");
            return None;
        };
        let client = client_ip(peer, request.headers(), &self.trusted_proxies);
        let decision = self.check(client, Instant::now());
        if decision.allowed {
            self.allowed.increment(1);
            return Some((decision, None));
        }
        self.limited.increment(1);
        // Once per client and window: a client hammering on after its 429 must not flood the log (each request
        // still has its own request line).
        if decision.first_refusal {
            tracing::info!(%client, limit = decision.limit, "rate limit reached");
        }
        let error = ApiError::TooManyRequests {
            retry_after_secs: decision.retry_after_secs,
            limit: decision.limit,
            window_secs: self.window.as_secs(),
        };
        let refusal = super::response::render(error, super::response::is_punk_path(request.uri()));
        Some((decision, Some(refusal)))
    }
}

/// Documents the limiter on every limited operation of the OpenAPI document: the three headers on each response
/// and the 429 (written once here rather than in each handler's annotation, so a new route cannot miss it).
pub struct DocumentRateLimit;

impl utoipa::Modify for DocumentRateLimit {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

        for (path, item) in openapi.paths.paths.iter_mut() {
            if is_exempt(path) {
                continue;
            }
            let punk = path == "/v2" || path.starts_with("/v2/");
            let (content_type, body) = if punk {
                ("application/json", "PunkErrorBody")
            } else {
                ("application/problem+json", "Problem")
            };
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
            ];
            for operation in operations.into_iter().flatten() {
                for response in operation.responses.responses.values_mut() {
                    if let utoipa::openapi::RefOr::T(response) = response {
                        response.headers.extend(limit_headers());
                    }
                }
                let mut too_many = ResponseBuilder::new()
                    .description(
                        "Too many requests from this client IP in the current window (`RATE_LIMIT_PER_HOUR`); \
                         retry after `Retry-After` seconds. Under `/v2` the body is Punk's own.",
                    )
                    .header("Retry-After", integer_header("Seconds until the current window ends"))
                    .content(
                        content_type,
                        ContentBuilder::new().schema(Some(Ref::from_schema_name(body))).build(),
                    );
                for (name, header) in limit_headers() {
                    too_many = too_many.header(name, header);
                }
                operation
                    .responses
                    .responses
                    .insert("429".to_owned(), too_many.build().into());
            }
        }
    }
}

fn integer_header(description: &str) -> utoipa::openapi::header::Header {
    use utoipa::openapi::{ObjectBuilder, Type};
    utoipa::openapi::header::HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
        .description(Some(description))
        .build()
}

/// Sent on every answer while limiting is enabled (absent when `RATE_LIMIT_PER_HOUR=0`).
fn limit_headers() -> [(String, utoipa::openapi::header::Header); 3] {
    [
        ("X-RateLimit-Limit", "Requests allowed per client IP in each window"),
        (
            "X-RateLimit-Remaining",
            "Requests left to this client IP in the current window",
        ),
        ("X-RateLimit-Reset", "When the current window ends, in unix seconds"),
    ]
    .map(|(name, description)| (name.to_owned(), integer_header(description)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(limit: u32, window: Duration, trusted: &str) -> Arc<Limiter> {
        RateLimiter::new(&RateLimitConfig {
            requests_per_window: limit,
            window,
            trusted_proxies: RateLimitConfig::parse_trusted_proxies(Some(trusted)).unwrap(),
        })
        .inner
        .unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn each_client_has_its_own_allowance_within_a_window() {
        let limiter = limiter(2, Duration::from_secs(3600), "");
        let now = Instant::now();
        let first = limiter.check(ip("192.0.2.1"), now);
        assert!(first.allowed);
        assert_eq!((first.limit, first.remaining), (2, 1));
        assert!(first.retry_after_secs <= 3600 && first.retry_after_secs > 3590);
        assert_eq!(limiter.check(ip("192.0.2.1"), now).remaining, 0);
        let third = limiter.check(ip("192.0.2.1"), now);
        assert!(!third.allowed && third.first_refusal);
        assert_eq!(third.remaining, 0);
        assert!(!limiter.check(ip("192.0.2.1"), now).first_refusal);
        assert!(
            limiter.check(ip("192.0.2.2"), now).allowed,
            "another client is not affected"
        );
    }

    #[test]
    fn a_new_window_starts_afresh_on_schedule() {
        let limiter = limiter(1, Duration::from_secs(10), "");
        let start = Instant::now();
        let first = limiter.check(ip("192.0.2.1"), start);
        assert!(!limiter.check(ip("192.0.2.1"), start).allowed);
        // Three windows later (two of them unused), the boundary has moved by whole windows.
        let later = limiter.check(ip("192.0.2.1"), start + Duration::from_secs(35));
        assert!(later.allowed);
        assert_eq!(later.reset_unix, first.reset_unix + 30);
        assert!(later.retry_after_secs <= 5);
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_prefix() {
        let limiter = limiter(1, Duration::from_secs(60), "");
        let now = Instant::now();
        assert!(limiter.check(ip("2001:db8:1:2::1"), now).allowed);
        assert!(!limiter.check(ip("2001:db8:1:2::ffff"), now).allowed);
        assert!(limiter.check(ip("2001:db8:1:3::1"), now).allowed);
        assert!(limiter.check(ip("::ffff:192.0.2.9"), now).allowed);
        assert!(
            !limiter.check(ip("192.0.2.9"), now).allowed,
            "IPv4-mapped is the same client"
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = RateLimitConfig::parse_trusted_proxies(Some("10.0.0.0/16, 10.1.0.7")).unwrap();
        let headers = forwarded("198.51.100.1, 203.0.113.5, 10.0.3.4");
        // Untrusted peer: the header is the client's own claim.
        assert_eq!(client_ip(ip("203.0.113.99"), &headers, &trusted), ip("203.0.113.99"));
        // No trusted proxies configured: never believed.
        assert_eq!(client_ip(ip("10.0.0.1"), &headers, &[]), ip("10.0.0.1"));
        // Trusted peer: the right-most entry that is not a trusted proxy, not the left-most (forgeable) one.
        assert_eq!(client_ip(ip("10.0.0.1"), &headers, &trusted), ip("203.0.113.5"));
        assert_eq!(
            client_ip(ip("10.1.0.7"), &forwarded("192.0.2.4:5123"), &trusted),
            ip("192.0.2.4")
        );
        // Everything trusted, or garbage next: the left-most trusted hop.
        assert_eq!(
            client_ip(ip("10.0.0.1"), &forwarded("10.0.9.9"), &trusted),
            ip("10.0.9.9")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), &forwarded("nonsense, 10.0.9.9"), &trusted),
            ip("10.0.9.9")
        );
        assert_eq!(client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted), ip("10.0.0.1"));
        // Several headers read as one list, in order.
        let mut two = forwarded("198.51.100.1");
        two.append("x-forwarded-for", HeaderValue::from_static("192.0.2.8"));
        assert_eq!(client_ip(ip("10.0.0.1"), &two, &trusted), ip("192.0.2.8"));
    }

    #[test]
    fn trusted_proxy_lists_name_the_bad_entry() {
        assert_eq!(RateLimitConfig::parse_trusted_proxies(None).unwrap(), vec![]);
        assert_eq!(
            RateLimitConfig::parse_trusted_proxies(Some("10.0.0.0/8,bogus")).unwrap_err(),
            "bogus"
        );
        assert!(RateLimitConfig::parse_trusted_proxies(Some("10.0.0.0/33")).is_err());
    }

    #[test]
    fn memory_is_bounded_and_new_clients_beyond_the_cap_share_one_allowance() {
        let mut limiter = Arc::into_inner(limiter(2, Duration::from_secs(60), "")).unwrap();
        limiter.max_clients = 2;
        let now = Instant::now();
        for client in ["192.0.2.1", "192.0.2.2"] {
            assert!(limiter.check(ip(client), now).allowed);
        }
        // The table is full: the next clients are counted together, never waved through.
        let first = limiter.check(ip("192.0.2.3"), now);
        assert!(first.allowed);
        assert_eq!(first.remaining, 1);
        assert!(limiter.check(ip("192.0.2.4"), now).allowed);
        let refused = limiter.check(ip("192.0.2.5"), now);
        assert!(!refused.allowed, "the shared allowance is spent");
        assert!(!refused.first_refusal, "not one client's refusal to log");
        assert!(!limiter.check(ip("192.0.2.3"), now).allowed);
        assert!(
            limiter.check(ip("192.0.2.1"), now).allowed,
            "tracked clients keep their own allowance"
        );
        assert!(!limiter.check(ip("192.0.2.1"), now).allowed);
        assert_eq!(limiter.current.lock().unwrap().counts.len(), 2);
        // A new window starts everyone afresh.
        let later = now + Duration::from_secs(61);
        assert!(limiter.check(ip("192.0.2.5"), later).allowed);
    }

    #[test]
    fn zero_disables_the_limiter() {
        let config = RateLimitConfig {
            requests_per_window: 0,
            window: RateLimitConfig::HOUR,
            trusted_proxies: vec![],
        };
        assert!(RateLimiter::new(&config).inner.is_none());
    }
}
