//! Every metric the service exports: its name, kind, unit and meaning, in one list ([`CATALOGUE`]) that the
//! recorder describes them from (the exposition's `# HELP` and `# TYPE` lines) and docs/operations.md follows.
//! Labels are bounded: route templates (never raw paths), fixed words, pool names; never ids or client addresses.

use metrics::Unit;

pub const HTTP_REQUESTS: &str = "beer_catalog_http_requests_total";
pub const HTTP_REQUEST_DURATION: &str = "beer_catalog_http_request_duration_seconds";
pub const HTTP_IN_FLIGHT: &str = "beer_catalog_http_requests_in_flight";
pub const CACHE_LOOKUPS: &str = "beer_catalog_response_cache_lookups_total";
pub const CACHE_BYTES: &str = "beer_catalog_response_cache_bytes";
pub const CACHE_EVICTIONS: &str = "beer_catalog_response_cache_evictions_total";
pub const READ_MODEL_LAG: &str = "beer_catalog_read_model_version_lag";
pub const READ_MODEL_REFRESHES: &str = "beer_catalog_read_model_refreshes_total";
pub const READ_MODEL_REFRESH_DURATION: &str = "beer_catalog_read_model_refresh_duration_seconds";
pub const READ_MODEL_WARMUP: &str = "beer_catalog_read_model_warmup_state";
pub const ROW_CACHE_LOOKUPS: &str = "beer_catalog_rendered_row_cache_lookups_total";
pub const STORE_CALL_DURATION: &str = "beer_catalog_store_call_duration_seconds";
pub const STORE_ERRORS: &str = "beer_catalog_store_errors_total";
pub const POOL_CONNECTIONS: &str = "beer_catalog_db_pool_connections";
pub const POOL_ACQUIRE_DURATION: &str = "beer_catalog_db_pool_acquire_duration_seconds";
pub const REPLICA_IN_USE: &str = "beer_catalog_replica_in_use";
pub const REPLICA_FALLBACKS: &str = "beer_catalog_replica_fallbacks_total";
pub const REPLICA_LAG: &str = "beer_catalog_replica_lag_seconds";
pub const OUTAGE_TRANSITIONS: &str = "beer_catalog_outage_guard_transitions_total";
pub const OUTAGE: &str = "beer_catalog_outage";
pub const RATE_LIMIT_DECISIONS: &str = "beer_catalog_rate_limit_decisions_total";
pub const RATE_LIMIT_CLIENTS: &str = "beer_catalog_rate_limit_tracked_clients";
pub const BUILD_INFO: &str = "beer_catalog_build_info";

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One exported metric.
#[derive(Copy, Clone, Debug)]
pub struct Described {
    pub name: &'static str,
    pub kind: Kind,
    pub unit: Option<Unit>,
    pub labels: &'static str,
    pub help: &'static str,
}

const fn metric(
    name: &'static str,
    kind: Kind,
    unit: Option<Unit>,
    labels: &'static str,
    help: &'static str,
) -> Described {
    Described {
        name,
        kind,
        unit,
        labels,
        help,
    }
}

use Kind::{Counter, Gauge, Histogram};

pub const CATALOGUE: [Described; 23] = [
    metric(
        HTTP_REQUESTS,
        Counter,
        Some(Unit::Count),
        "route, method, status_class",
        "HTTP requests answered, by matched route template (`unmatched` for unknown paths), method and status class.",
    ),
    metric(
        HTTP_REQUEST_DURATION,
        Histogram,
        Some(Unit::Seconds),
        "route, method",
        "Time from the request reaching the router to its answer's headers, by route template and method.",
    ),
    metric(
        HTTP_IN_FLIGHT,
        Gauge,
        Some(Unit::Count),
        "",
        "HTTP requests being answered now.",
    ),
    metric(
        CACHE_LOOKUPS,
        Counter,
        Some(Unit::Count),
        "outcome",
        "Response cache lookups of cacheable reads: hit, miss (computed and stored, or bypassed), stale (served during a database outage).",
    ),
    metric(
        CACHE_BYTES,
        Gauge,
        Some(Unit::Bytes),
        "",
        "Bytes the response cache holds (CACHE_MAX_BYTES bounds it).",
    ),
    metric(
        CACHE_EVICTIONS,
        Counter,
        Some(Unit::Count),
        "",
        "Answers the response cache evicted to stay within CACHE_MAX_BYTES.",
    ),
    metric(
        READ_MODEL_LAG,
        Gauge,
        Some(Unit::Count),
        "",
        "Catalog versions the read model's index is behind the change signal (0: current).",
    ),
    metric(
        READ_MODEL_REFRESHES,
        Counter,
        Some(Unit::Count),
        "kind",
        "Read model refreshes installed, by kind: patch (from the change log) or rebuild (every beer).",
    ),
    metric(
        READ_MODEL_REFRESH_DURATION,
        Histogram,
        Some(Unit::Seconds),
        "kind",
        "Time a read model refresh took, from start to the new index ready, by kind.",
    ),
    metric(
        READ_MODEL_WARMUP,
        Gauge,
        None,
        "state",
        "1 for the read model's warm-up state, 0 for the others: building (the first build, within READ_MODEL_WARMUP_TIMEOUT_SECS: /ready answers 503), warm, serving_from_sql (the build failed or ran past the bound: ready anyway).",
    ),
    metric(
        ROW_CACHE_LOOKUPS,
        Counter,
        Some(Unit::Count),
        "outcome",
        "Lookups of the read model's cached rendered rows: hit, or miss (read from the database).",
    ),
    metric(
        STORE_CALL_DURATION,
        Histogram,
        Some(Unit::Seconds),
        "operation",
        "Time a database call took (including waiting for a connection), by storage operation.",
    ),
    metric(
        STORE_ERRORS,
        Counter,
        Some(Unit::Count),
        "operation, kind",
        "Database calls that failed, by operation and kind: unavailable (worth a retry) or database (a query error).",
    ),
    metric(
        POOL_CONNECTIONS,
        Gauge,
        Some(Unit::Count),
        "pool, state",
        "Connections of each pool (primary, replica), idle or in use.",
    ),
    metric(
        POOL_ACQUIRE_DURATION,
        Histogram,
        Some(Unit::Seconds),
        "pool",
        "Time a catalog read waited for a pooled connection, by pool.",
    ),
    metric(
        REPLICA_IN_USE,
        Gauge,
        None,
        "",
        "1 while catalog reads go to the read replica, 0 while they fall back to the primary.",
    ),
    metric(
        REPLICA_FALLBACKS,
        Counter,
        Some(Unit::Count),
        "reason",
        "Switches of catalog reads from the replica to the primary, by reason: unreachable or lagging.",
    ),
    metric(
        REPLICA_LAG,
        Gauge,
        Some(Unit::Seconds),
        "",
        "Replication lag of the read replica at its last successful probe.",
    ),
    metric(
        OUTAGE_TRANSITIONS,
        Counter,
        Some(Unit::Count),
        "to",
        "Changes of the database outage state: to outage (answering 503 at once) or recovered.",
    ),
    metric(
        OUTAGE,
        Gauge,
        None,
        "",
        "1 while the database is known to be unreachable (requests that need it answer 503 at once), else 0.",
    ),
    metric(
        RATE_LIMIT_DECISIONS,
        Counter,
        Some(Unit::Count),
        "decision",
        "Rate limiter decisions on counted requests: allowed or limited (answered 429).",
    ),
    metric(
        RATE_LIMIT_CLIENTS,
        Gauge,
        Some(Unit::Count),
        "",
        "Clients the rate limiter counts in the current window (at most 100,000).",
    ),
    metric(
        BUILD_INFO,
        Gauge,
        None,
        "version, backend",
        "Always 1: the running version and storage backend, as labels.",
    ),
];
