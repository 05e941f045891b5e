//! The replica monitor: probes, on connections of its own, the primary's WAL position and the standby's replay
//! every [`PROBE_INTERVAL`], and decides whether reads may go to the standby: reachable, and no more than
//! `DB_READ_MAX_LAG_SECS` behind ([`LagTracker`] says how the lag is measured). The functions it calls need no
//! privilege: the DML-only app role can run them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use super::health::ReplicaHealth;
use crate::storage::{ConnectError, DatabaseUrl, PostgresStore};

/// How often the monitor probes the replica.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// How long one probe (connecting included) may take before the replica counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// On the standby: is it one, how far into the WAL it has replayed, and how old the last transaction it replayed is
/// (NULL until it replays one, e.g. just after a restart). On a server that is not a standby the position is NULL.
const STANDBY_PROBE_SQL: &str = "SELECT pg_is_in_recovery(), \
     (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::int8, \
     EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8";
/// The fallback reason while the read database is not a standby, as `/ready` shows it.
pub const NOT_A_STANDBY: &str = "not a standby: pg_is_in_recovery() is false, DB_READ_* names a primary";
/// On the primary: how far it has written its WAL.
const PRIMARY_PROBE_SQL: &str = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::int8";
/// Primary positions remembered (one a probe: an hour's worth). Beyond that new ones are not recorded, which can
/// only overstate the lag, never understate it.
const MAX_POSITIONS: usize = 3600;

/// What one probe of the standby saw.
#[derive(Clone, Copy, Debug)]
struct Probe {
    in_recovery: bool,
    /// WAL position replayed (bytes); `None` on a server that is not a standby.
    replayed: Option<i64>,
    /// Time since the last replayed transaction committed on the primary; `None` until one is replayed.
    replay_age: Option<Duration>,
}

/// Turns probes into a lag: how old the newest primary state is that the standby is known to have replayed.
///
/// Each probe first records the primary's WAL position with the time. The standby has replayed everything up to
/// its replay position, so its data is at least as new as the newest recorded primary position at or below it (the
/// anchor), and no newer than the first one above it. That works where the replay timestamp alone misleads: an idle
/// primary commits nothing, so a caught-up standby's last replay gets old without any lag, and after a restart the
/// standby has no replay timestamp at all while it may be far behind. Under a steady stream of writes the anchor is
/// a probe interval old while the replay timestamp is fresh, so the lag is the smaller of the two.
#[derive(Debug, Default)]
struct LagTracker {
    /// Primary positions with when they were seen, oldest first: at most one the standby has replayed (the anchor),
    /// then the ones it has not.
    positions: VecDeque<(Instant, i64)>,
}

impl LagTracker {
    fn record_primary(&mut self, seen: Instant, position: i64) {
        if self.positions.len() < MAX_POSITIONS {
            self.positions.push_back((seen, position));
        }
    }

    fn lag(&mut self, probe: Probe, now: Instant) -> Duration {
        let (true, Some(replayed)) = (probe.in_recovery, probe.replayed) else {
            return Duration::ZERO; // not a standby: nothing to lag behind
        };
        while self.positions.len() >= 2 && self.positions[1].1 <= replayed {
            self.positions.pop_front();
        }
        let age = |since: Instant| now.saturating_duration_since(since);
        match (self.positions.front(), self.positions.back()) {
            // Everything the primary had written when last asked is replayed.
            (_, Some(&(_, latest))) if latest <= replayed => Duration::ZERO,
            (Some(&(anchor, position)), _) if position <= replayed => {
                age(anchor).min(probe.replay_age.unwrap_or(Duration::MAX))
            }
            // Behind every position seen since monitoring began: the replay timestamp is the best measure there is.
            (Some(&(oldest, _)), _) => probe.replay_age.unwrap_or_else(|| age(oldest)),
            // The primary never answered the monitor (it is down: /ready says so); the replica may still serve.
            (None, _) => probe.replay_age.unwrap_or_default(),
        }
    }
}

/// One connection of the monitor's own, reopened after any failure. Not from the read pool, so a busy pool does
/// not read as an outage, and a refused connection shows its own error at once.
struct ProbeConnection {
    options: PgConnectOptions,
    connection: Option<PgConnection>,
}

/// Why a probe failed: the driver's error, or no answer within [`PROBE_TIMEOUT`].
enum ProbeError {
    Failed(sqlx::Error),
    TimedOut,
}

impl ProbeConnection {
    fn new(options: PgConnectOptions) -> Self {
        Self {
            options,
            connection: None,
        }
    }

    async fn fetch<T>(&mut self, sql: &'static str) -> Result<T, ProbeError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        let (options, slot) = (&self.options, &mut self.connection);
        let attempt = tokio::time::timeout(PROBE_TIMEOUT, async move {
            let connection = match slot {
                Some(connection) => connection,
                None => slot.insert(PgConnection::connect_with(options).await?),
            };
            sqlx::query_as::<_, T>(sql).fetch_one(connection).await
        })
        .await;
        let error = match attempt {
            Ok(Ok(row)) => return Ok(row),
            Ok(Err(error)) => ProbeError::Failed(error),
            Err(_) => ProbeError::TimedOut,
        };
        self.connection = None;
        Err(error)
    }
}

/// Probes the primary's WAL position and the standby every [`PROBE_INTERVAL`], and decides whether reads may go to
/// the standby.
pub struct Monitor {
    primary: ProbeConnection,
    standby: ProbeConnection,
    lag: LagTracker,
    health: Arc<ReplicaHealth>,
}

/// The running monitor; dropping it stops it.
pub struct MonitorHandle(tokio::task::AbortHandle);

impl MonitorHandle {
    pub fn stop(&self) {
        self.0.abort();
    }
}

impl Drop for MonitorHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Monitor {
    /// Probes once, so the replica's state is known before this returns (at most 2 s; a replica that is down does
    /// not stop the service from starting: reads go to the primary until it answers), then keeps probing.
    pub async fn start(
        primary_url: &DatabaseUrl,
        replica_url: &DatabaseUrl,
        health: Arc<ReplicaHealth>,
    ) -> Result<MonitorHandle, ConnectError> {
        let mut monitor = Monitor {
            primary: ProbeConnection::new(PostgresStore::connect_options(primary_url)?),
            standby: ProbeConnection::new(PostgresStore::connect_options(replica_url)?),
            lag: LagTracker::default(),
            health,
        };
        monitor.check().await;
        Ok(MonitorHandle(tokio::spawn(monitor.run()).abort_handle()))
    }

    async fn run(mut self) {
        let mut ticks = tokio::time::interval(PROBE_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is immediate, and start-up has just checked
        loop {
            ticks.tick().await;
            self.check().await;
        }
    }

    async fn check(&mut self) {
        // The primary first: whatever the standby has replayed when it answers is compared with this position.
        match self.primary.fetch::<(i64,)>(PRIMARY_PROBE_SQL).await {
            Ok((position,)) => self.lag.record_primary(Instant::now(), position),
            // The primary's own health is /ready's business; the lag is measured again once it answers.
            Err(_) => tracing::debug!("replica monitor: the primary did not give its WAL position"),
        }
        let (in_recovery, replayed, replay_age) = match self
            .standby
            .fetch::<(bool, Option<i64>, Option<f64>)>(STANDBY_PROBE_SQL)
            .await
        {
            Ok(row) => row,
            Err(ProbeError::Failed(error)) => {
                self.health.fall_back("unreachable".into(), Some(&error));
                return;
            }
            Err(ProbeError::TimedOut) => {
                let reason = format!("unreachable: no answer within {} s", PROBE_TIMEOUT.as_secs());
                self.health.fall_back(reason, None);
                return;
            }
        };
        let probe = Probe {
            in_recovery,
            replayed,
            replay_age: replay_age.map(|secs| Duration::try_from_secs_f64(secs).unwrap_or_default()),
        };
        let lag = self.lag.lag(probe, Instant::now());
        self.health.record_probe(in_recovery, lag);
        let max_lag = self.health.max_lag;
        if !in_recovery {
            // A primary (DB_READ_* naming the primary itself, another server, or a promoted replica) replicates
            // nothing from ours: what it holds may be another catalog. Reads stay on the primary, and /ready says
            // why for as long as it lasts.
            self.health.fall_back(NOT_A_STANDBY.to_owned(), None);
        } else if lag > max_lag {
            let reason = format!(
                "lagging {:.1} s behind the primary, more than DB_READ_MAX_LAG_SECS={}",
                lag.as_secs_f64(),
                max_lag.as_secs()
            );
            self.health.fall_back(reason, None);
        } else {
            self.health.back_in_use();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standby(replayed: i64, replay_age_secs: Option<u64>) -> Probe {
        Probe {
            in_recovery: true,
            replayed: Some(replayed),
            replay_age: replay_age_secs.map(Duration::from_secs),
        }
    }

    fn at(start: Instant, secs: u64) -> Instant {
        start + Duration::from_secs(secs)
    }

    #[test]
    fn a_caught_up_standby_has_no_lag_however_old_its_last_replay() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        for second in 0..5 {
            // An idle primary: its position does not move, and the standby's last replay is ten minutes old.
            tracker.record_primary(at(start, second), 1000);
            assert_eq!(
                tracker.lag(standby(1000, Some(600 + second)), at(start, second)),
                Duration::ZERO
            );
        }
        let primary = Probe {
            in_recovery: false,
            replayed: None,
            replay_age: None,
        };
        assert_eq!(tracker.lag(primary, start), Duration::ZERO, "not a standby");
    }

    #[test]
    fn a_standby_that_stops_replaying_lags_from_the_last_primary_state_it_has() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        tracker.record_primary(at(start, 0), 1000);
        assert_eq!(tracker.lag(standby(1000, Some(600)), at(start, 0)), Duration::ZERO);
        // A write after ten idle minutes, which the standby does not replay (paused, or too slow).
        for second in 1..=4 {
            tracker.record_primary(at(start, second), 2000);
            let lag = tracker.lag(standby(1000, Some(600 + second)), at(start, second));
            assert_eq!(
                lag,
                Duration::from_secs(second),
                "the replay timestamp's 600 s is not the lag"
            );
        }
        // Replayed: current again.
        tracker.record_primary(at(start, 5), 2000);
        assert_eq!(tracker.lag(standby(2000, Some(1)), at(start, 5)), Duration::ZERO);
    }

    #[test]
    fn under_steady_writes_lag_is_the_replay_age() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        for second in 0..30 {
            // The primary moves on each second; the standby is always a little behind, replaying promptly.
            tracker.record_primary(at(start, second), 1000 * (second as i64 + 1));
            let lag = tracker.lag(standby(1000 * second as i64 + 900, Some(0)), at(start, second));
            assert_eq!(lag, Duration::ZERO, "at {second} s");
        }
    }

    #[test]
    fn a_restarted_standby_without_a_replay_timestamp_lags_by_its_downtime() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        tracker.record_primary(at(start, 0), 1000);
        assert_eq!(tracker.lag(standby(1000, Some(5)), at(start, 0)), Duration::ZERO);
        // Down for 30 s (probes of the standby fail) while the primary writes.
        for second in 1..=30 {
            tracker.record_primary(at(start, second), 1000 + 100 * second as i64);
        }
        // Back, not yet caught up, and with no replay timestamp since its restart.
        assert_eq!(tracker.lag(standby(1000, None), at(start, 31)), Duration::from_secs(31));
        assert_eq!(tracker.lag(standby(2500, None), at(start, 31)), Duration::from_secs(16));
        tracker.record_primary(at(start, 32), 4000);
        assert_eq!(tracker.lag(standby(4000, None), at(start, 32)), Duration::ZERO);
    }

    #[test]
    fn with_no_history_a_standby_behind_is_as_old_as_its_last_replay() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        tracker.record_primary(start, 5000);
        assert_eq!(tracker.lag(standby(1000, Some(90)), start), Duration::from_secs(90));
        // And with neither a replay timestamp nor a replayed position: how long it has been seen behind.
        assert_eq!(tracker.lag(standby(1000, None), at(start, 3)), Duration::from_secs(3));
    }
}
