//! Liveness, start-up and readiness. Liveness (`/health`) never touches the database: a database outage must not
//! make the orchestrator kill healthy processes. Start-up (`/started`, the load balancer's health check) does not
//! either; it answers 503 while the process warms up (the read model's first build, bounded by
//! `READ_MODEL_WARMUP_TIMEOUT_SECS`), so a new task gets traffic only once lists are fast. Readiness (`/ready`)
//! checks both, the database within a short timeout, for deploy smoke tests and humans.

use std::future::Future;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::state::AppState;
use crate::storage::{Availability, ReplicaStatus, Warmth};

/// How long `/ready` waits for the database.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one database check answers `/ready`: a flood of `/ready` requests (not rate-limited, since load
/// balancers poll it) costs the database one round trip per interval, not one per request.
const READINESS_INTERVAL: Duration = Duration::from_secs(1);

/// The last database check, shared by the `/ready` requests of one interval. Requests arriving while a check runs
/// wait for its answer rather than start their own.
#[derive(Default)]
pub struct ReadinessCheck {
    last: tokio::sync::Mutex<Option<(Instant, Option<String>)>>,
}

impl ReadinessCheck {
    /// The reason the service is not ready (`None`: ready), from a check made within [`READINESS_INTERVAL`], or
    /// from `check` now.
    pub async fn reason<F: Future<Output = Option<String>>>(&self, check: impl FnOnce() -> F) -> Option<String> {
        self.reason_within(READINESS_INTERVAL, check).await
    }

    async fn reason_within<F: Future<Output = Option<String>>>(
        &self,
        interval: Duration,
        check: impl FnOnce() -> F,
    ) -> Option<String> {
        let mut last = self.last.lock().await;
        if let Some((at, reason)) = last.as_ref()
            && at.elapsed() < interval
        {
            return reason.clone();
        }
        let reason = check().await;
        *last = Some((Instant::now(), reason.clone()));
        reason
    }
}

/// A round trip to the primary within [`READINESS_TIMEOUT`]: `None` when it answers, else what kind of failure.
async fn database_check(state: &AppState) -> Option<String> {
    match tokio::time::timeout(READINESS_TIMEOUT, state.catalog.ping()).await {
        Ok(Ok(())) => None,
        Ok(Err(error)) => {
            tracing::warn!(
                error = crate::telemetry::error_chain(&error),
                "readiness: the database check failed"
            );
            Some(error.to_string())
        }
        Err(_) => {
            let reason = format!("the database did not answer within {} s", READINESS_TIMEOUT.as_secs());
            tracing::warn!("readiness: {reason}");
            Some(reason)
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(started))
        .routes(routes!(ready))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
    #[schema(example = "0.1.0")]
    pub version: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Started {
    /// `started`, or `warming` while the read model's first build runs (within `READ_MODEL_WARMUP_TIMEOUT_SECS`).
    #[schema(example = "started")]
    pub status: &'static str,
    /// Why the process is not started yet; absent when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        example = "warming: read model building, 401408 of 1000000 beers (3.2 s of at most 30 s; READ_MODEL_WARMUP_TIMEOUT_SECS)"
    )]
    pub reason: Option<String>,
    /// The read model's state: `warming: ...`, `warm: built in N s`, `serving from SQL: <why>`, or `off` with
    /// `READ_MODEL=database`.
    #[schema(example = "warm: built in 8.6 s")]
    pub read_model: String,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`; `warming` while the read model's first build runs (within `READ_MODEL_WARMUP_TIMEOUT_SECS`: the
    /// load balancer keeps traffic away); `resuming` while the database accepts connections but has not answered
    /// yet (waking from a pause, up to ~15 s: retry shortly); `unavailable` otherwise.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    #[schema(example = "postgres")]
    pub database: String,
    /// Why the service is not ready; absent when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The read model's state: `warming: ...` (then not ready), `warm: built in N s`, `serving from SQL: <why>`
    /// (ready: the build failed or ran past `READ_MODEL_WARMUP_TIMEOUT_SECS`; lists are answered by SQL, slower at
    /// scale, until it is built), or `off` with `READ_MODEL=database`.
    #[schema(example = "warm: built in 8.6 s")]
    pub read_model: String,
    /// With a read replica configured: `in use`, or `fallback (<why>)` while reads go to the primary.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "in use")]
    pub read_replica: Option<String>,
    /// With a read replica configured: its lag and where reads went.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_replica_stats: Option<ReadReplicaStats>,
}

/// The read replica's numbers since the process started.
#[derive(Serialize, ToSchema)]
pub struct ReadReplicaStats {
    /// Replication lag at the last probe, in seconds; absent until the replica first answered.
    pub lag_seconds: Option<f64>,
    /// `DB_READ_MAX_LAG_SECS`.
    pub max_lag_seconds: u64,
    /// Whether the read database is a standby (`pg_is_in_recovery()`), at the last probe.
    pub in_recovery: Option<bool>,
    /// Switches from the replica to the primary.
    pub fallbacks: u64,
    /// Catalog reads the replica served.
    pub reads_on_replica: u64,
    /// Reads the primary served: during a fallback, within a write, or after failing on the replica.
    pub reads_on_primary: u64,
    /// Reads that failed on the replica and were answered by the primary.
    pub retried_on_primary: u64,
}

impl From<ReplicaStatus> for ReadReplicaStats {
    fn from(status: ReplicaStatus) -> Self {
        Self {
            lag_seconds: status.lag.map(|lag| (lag.as_secs_f64() * 10.0).round() / 10.0),
            max_lag_seconds: status.max_lag.as_secs(),
            in_recovery: status.in_recovery,
            fallbacks: status.fallbacks,
            reads_on_replica: status.reads_on_replica,
            reads_on_primary: status.reads_on_primary,
            retried_on_primary: status.retried_on_primary,
        }
    }
}

/// Liveness: 200 while the process runs.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Health)))]
pub async fn health() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// What `/ready` and `/started` say of the read model, and whether it holds the process back (warming).
fn read_model_state(warmth: Option<Warmth>) -> (String, bool) {
    match warmth {
        None => ("off".to_owned(), false),
        Some(warmth) => (warmth.to_string(), !warmth.is_settled()),
    }
}

/// Start-up, the load balancer's health check: 200 once the process has warmed up (its read model built, or the
/// build failed or ran past `READ_MODEL_WARMUP_TIMEOUT_SECS`: then it serves from SQL and says so), 503 with the
/// build's progress before. Never touches the database: as with `/health`, a database outage must not take every
/// task out of the load balancer and have them all replaced.
#[utoipa::path(
    get, path = "/started", tag = "operations",
    responses((status = 200, body = Started), (status = 503, body = Started))
)]
pub async fn started(State(state): State<AppState>) -> (StatusCode, axum::Json<Started>) {
    let (read_model, warming) = read_model_state(state.catalog.warmth());
    let (status, word, reason) = match warming {
        true => (StatusCode::SERVICE_UNAVAILABLE, "warming", Some(read_model.clone())),
        false => (StatusCode::OK, "started", None),
    };
    (
        status,
        axum::Json(Started {
            status: word,
            reason,
            read_model,
        }),
    )
}

/// Readiness: 200 when the database answers within 2 seconds and the read model is warm (or no longer waited
/// for), 503 with the reason otherwise (status `resuming` while the database wakes from a pause, `unavailable`
/// when it is down, `warming` while the read model's first build runs within `READ_MODEL_WARMUP_TIMEOUT_SECS`);
/// the database is checked at most once a second, and the requests of that second share the answer. The reason
/// is public, so it says what kind of failure this is; the driver's own error (host names, addresses) is logged.
/// A read replica's state is reported but does not decide readiness: while the primary serves, reads fall back to
/// it.
#[utoipa::path(
    get, path = "/ready", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness))
)]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, axum::Json<Readiness>) {
    let mut reason = state.readiness.reason(|| database_check(&state)).await;
    // Not ready while the database resumes: say so, whatever the check's own failure was (a slow connect).
    let resuming = reason.is_some() && state.catalog.freshness().availability() == Availability::Resuming;
    if resuming {
        reason = Some(crate::storage::StoreError::Resuming.to_string());
    }
    let (read_model, warming) = read_model_state(state.catalog.warmth());
    // The database's failure says more (and lasts longer); a warming process with a database that answers says so.
    let warming = warming && reason.is_none();
    if warming {
        reason = Some(read_model.clone());
    }
    let status = if reason.is_none() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let database = state.catalog.backend().to_string();
    let replica = state.catalog.replica_status();
    (
        status,
        axum::Json(Readiness {
            status: match (&reason, resuming, warming) {
                (None, _, _) => "ready",
                (Some(_), true, _) => "resuming",
                (Some(_), false, true) => "warming",
                (Some(_), false, false) => "unavailable",
            },
            database,
            reason,
            read_model,
            read_replica: replica.as_ref().map(|replica| match &replica.fallback_reason {
                None => "in use".to_owned(),
                Some(why) => format!("fallback ({why})"),
            }),
            read_replica_stats: replica.map(ReadReplicaStats::from),
        }),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_burst_of_readiness_requests_checks_the_database_once_per_interval() {
        let readiness = Arc::new(ReadinessCheck::default());
        let checks = Arc::new(AtomicUsize::new(0));
        let check = |checks: Arc<AtomicUsize>| async move {
            checks.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            None
        };
        let burst: Vec<_> = (0..200)
            .map(|_| {
                let (readiness, checks) = (readiness.clone(), checks.clone());
                tokio::spawn(async move {
                    readiness
                        .reason_within(Duration::from_millis(300), || check(checks))
                        .await
                })
            })
            .collect();
        for request in burst {
            assert_eq!(request.await.unwrap(), None);
        }
        assert_eq!(checks.load(Ordering::SeqCst), 1, "200 requests, one database check");
        tokio::time::sleep(Duration::from_millis(350)).await;
        readiness
            .reason_within(Duration::from_millis(300), || check(checks.clone()))
            .await;
        assert_eq!(checks.load(Ordering::SeqCst), 2, "a new interval, a new check");
    }
}
