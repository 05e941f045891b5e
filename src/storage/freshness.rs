//! Freshness: what is known, without asking the database, about the catalog's version and whether the database
//! can be reached. The [`super::change_signal::VersionFollower`] reads the version every
//! [`POLL_INTERVAL`](super::change_signal::POLL_INTERVAL), and at once on a PostgreSQL change notification; the
//! outage guard confirms it again after each of this process's writes.
//!
//! Caches check against it: the response cache serves an answer only if it was built at the version confirmed
//! within [`FRESHNESS`], so a write by any writer is visible everywhere within that bound, and the read model
//! answers at that version without a round trip. While the version cannot be read, nothing is served from a cache
//! unless the database is down (stale-if-error).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::StoreError;
use crate::observability::{Metrics, names};
use crate::telemetry::error_chain;

/// How long a version read is trusted, counted from when the read was *issued*: a cached answer served at time t
/// was built at a version that was current at some moment after t - FRESHNESS, so it is never staler than this.
/// The follower's poll interval + read timeout, under the 1 s the API promises.
pub const FRESHNESS: Duration = Duration::from_millis(800);

/// How long a database that accepts connections without answering counts as resuming before it counts as down.
/// Aurora Serverless v2 resumes from a pause in up to about 15 s; twice that leaves room without hiding a server
/// that is stuck.
pub const RESUME_BOUND: Duration = Duration::from_secs(30);

/// Whether the database can be reached, as far as the outage guard knows (docs/operations.md, "A paused
/// database"). Only a successful version read makes it `Up`; requests are answered 503 at once otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    Up,
    /// It accepts TCP connections but has not answered PostgreSQL's start-up within the follower's read timeout:
    /// waking from a pause. Becomes `Down` when it is refused or after [`RESUME_BOUND`].
    Resuming,
    /// Refused, unreachable, or broken connections.
    Down,
}

const UP: u8 = 0;
const RESUMING: u8 = 1;
const DOWN: u8 = 2;

/// What is known of the catalog version and the database's reachability; shared by the outage guard, the read
/// model and the response cache.
pub struct Freshness {
    epoch: Instant,
    version: AtomicI64,
    /// When the last successful version read was issued, in ms since `epoch` plus one (0: never).
    confirmed_at: AtomicU64,
    /// Orders version reads after this process's writes: every read and every write takes the next number. A
    /// millisecond clock cannot: a read issued in the same millisecond as a write would be refused, leaving the
    /// cache unusable until the next poll.
    sequence: AtomicU64,
    /// The number of this process's last write whose version is unknown (its version read failed): version reads
    /// numbered before it cannot vouch for anything.
    written: AtomicU64,
    /// The number of the read the current version comes from: a read issued earlier (it may have seen an older
    /// version) that completes later must not replace it.
    confirmed_number: AtomicU64,
    /// Serialises confirmations, which update the three fields above together.
    confirming: std::sync::Mutex<()>,
    /// [`Availability`] as `UP`, `RESUMING` or `DOWN`.
    state: AtomicU8,
    /// When the database began resuming, in ms since `epoch` plus one.
    resuming_since: AtomicU64,
    /// It resumed for longer than [`RESUME_BOUND`]: down until a read succeeds, whatever the probe sees.
    gave_up_resuming: AtomicBool,
    /// Wakes the version follower for a read now.
    poll_now: Notify,
    /// Wakes those waiting for a new version (the read model, which refreshes at once).
    version_moved: Notify,
    outage: OutageMetrics,
}

/// The outage state and its changes, as metrics.
struct OutageMetrics {
    to_outage: metrics::Counter,
    to_resuming: metrics::Counter,
    recovered: metrics::Counter,
    down: metrics::Gauge,
}

impl Freshness {
    pub fn new() -> Arc<Self> {
        Self::with_metrics(&Metrics::disabled())
    }

    /// Counting the outage state's changes into `metrics` (`outage_guard_transitions_total`, `outage`).
    pub fn with_metrics(metrics: &Metrics) -> Arc<Self> {
        let down = metrics.gauge(names::OUTAGE, &[] as &[(&str, &str)]);
        down.set(0.0);
        Arc::new(Self {
            epoch: Instant::now(),
            version: AtomicI64::new(0),
            confirmed_at: AtomicU64::new(0),
            sequence: AtomicU64::new(0),
            written: AtomicU64::new(0),
            confirmed_number: AtomicU64::new(0),
            confirming: std::sync::Mutex::new(()),
            state: AtomicU8::new(UP),
            resuming_since: AtomicU64::new(0),
            gave_up_resuming: AtomicBool::new(false),
            poll_now: Notify::new(),
            version_moved: Notify::new(),
            outage: OutageMetrics {
                to_outage: metrics.counter(names::OUTAGE_TRANSITIONS, &[("to", "outage")]),
                to_resuming: metrics.counter(names::OUTAGE_TRANSITIONS, &[("to", "resuming")]),
                recovered: metrics.counter(names::OUTAGE_TRANSITIONS, &[("to", "recovered")]),
                down,
            },
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX) + 1
    }

    /// The catalog's version, when it was read recently enough to vouch for a cached answer; `None` while the
    /// change signal cannot be read (caching is suspended then).
    pub fn current_version(&self) -> Option<i64> {
        let confirmed = self.confirmed_at.load(Ordering::Acquire);
        let fresh = confirmed != 0 && self.now().saturating_sub(confirmed) <= FRESHNESS.as_millis() as u64;
        fresh.then(|| self.version.load(Ordering::Acquire))
    }

    /// The last version read, however long ago (what cached answers were built at when an outage began).
    pub fn last_version(&self) -> i64 {
        self.version.load(Ordering::Acquire)
    }

    /// Has the version follower read the version now rather than at its next poll.
    pub fn poll_now(&self) {
        self.poll_now.notify_one();
    }

    /// Waits for the follower's next poll: `interval`, or sooner when [`Freshness::poll_now`] is called.
    pub async fn next_poll(&self, interval: Duration) {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = self.poll_now.notified() => {}
        }
    }

    /// Resolves when a confirmed version differs from the one before it.
    pub async fn version_moved(&self) {
        self.version_moved.notified().await;
    }

    /// Whether the database is known to be unreachable or resuming (until the probe reaches it again): calls fail
    /// at once.
    pub fn is_down(&self) -> bool {
        self.state.load(Ordering::Acquire) != UP
    }

    /// What the outage guard knows of the database's reachability.
    pub fn availability(&self) -> Availability {
        match self.state.load(Ordering::Acquire) {
            UP => Availability::Up,
            RESUMING => Availability::Resuming,
            _ => Availability::Down,
        }
    }

    /// The error a call gets without trying while the database is not up; `None` while it is.
    pub fn fail_fast(&self) -> Option<StoreError> {
        match self.availability() {
            Availability::Up => None,
            Availability::Resuming => Some(StoreError::Resuming),
            Availability::Down => Some(StoreError::KnownDown),
        }
    }

    /// A request found the database unavailable: fail fast from now on, probe at once. A request that got no
    /// connection within the pool's wait cannot tell a resuming database from a refusing one: it counts as
    /// resuming until the probe, which can, says otherwise.
    pub fn report_unavailable(&self, error: &StoreError) {
        if error.is_slow_connect() {
            self.slow_to_answer(&crate::telemetry::error_chain(error));
        } else {
            self.probe_failed(error);
        }
        self.poll_now.notify_one();
    }

    /// The version follower's own probe found the database unreachable: down (not resuming), without waking the
    /// follower, which would probe again at once (and, on an error that needs no I/O, such as a closed pool, never
    /// yield).
    pub fn probe_failed(&self, error: &StoreError) {
        let before = self.state.swap(DOWN, Ordering::AcqRel);
        if before == UP {
            self.outage.to_outage.increment(1);
            self.outage.down.set(1.0);
        }
        if before != DOWN {
            tracing::warn!(
                error = error_chain(error),
                "the database is unavailable: answering 503 at once and serving cached reads until it is back"
            );
        }
    }

    /// The database accepted a connection but did not answer in time (`what` says how this was seen): resuming,
    /// for at most [`RESUME_BOUND`], then down until a read succeeds. Counted as a transition only from `Up`
    /// (`to="resuming"`); a database already known down (its connections were cut) that turns out to be resuming
    /// is relabelled, once: the same outage, better understood, never back and forth.
    pub fn slow_to_answer(&self, what: &str) {
        self.slow_to_answer_at(what, self.now());
    }

    fn slow_to_answer_at(&self, what: &str, now: u64) {
        let before = self.state.load(Ordering::Acquire);
        if before == UP || (before == DOWN && !self.gave_up_resuming.load(Ordering::Acquire)) {
            if self
                .state
                .compare_exchange(before, RESUMING, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                self.resuming_since.store(now, Ordering::Release);
                if before == UP {
                    self.outage.to_resuming.increment(1);
                    self.outage.down.set(1.0);
                }
                tracing::warn!(
                    what,
                    "the database accepts connections but does not answer: resuming from a pause? Answering 503 at \
                     once until it answers"
                );
            }
            return;
        }
        let since = self.resuming_since.load(Ordering::Acquire);
        let too_long = now.saturating_sub(since) > RESUME_BOUND.as_millis() as u64;
        if before == RESUMING
            && too_long
            && self
                .state
                .compare_exchange(RESUMING, DOWN, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.gave_up_resuming.store(true, Ordering::Release);
            tracing::warn!(
                what,
                "the database has not answered for {} s although it accepts connections: down",
                RESUME_BOUND.as_secs()
            );
        }
    }

    /// This process wrote to the catalog and could not read the version after it: until the version is read
    /// again, nothing cached may be served, so a client still reads its own writes at once on this instance (other
    /// instances see them within the bound).
    pub fn wrote(&self) {
        self.written.store(self.next(), Ordering::Release);
        self.confirmed_at.store(0, Ordering::Release);
        self.poll_now.notify_one();
    }

    fn next(&self) -> u64 {
        self.sequence.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Taken just before a version read is issued; the read vouches for the version from then on.
    pub fn issue(&self) -> Ticket {
        Ticket {
            number: self.next(),
            at: self.now(),
        }
    }

    /// Records a version read issued with `ticket`, unless a read issued later has been recorded already.
    pub fn confirm(&self, version: i64, ticket: Ticket) {
        {
            let _one_at_a_time = self.confirming.lock().expect("confirming never panics");
            if ticket.number > self.written.load(Ordering::Acquire)
                && ticket.number > self.confirmed_number.load(Ordering::Acquire)
            {
                self.confirmed_number.store(ticket.number, Ordering::Release);
                if self.version.swap(version, Ordering::AcqRel) != version {
                    self.version_moved.notify_waiters();
                }
                self.confirmed_at.store(ticket.at, Ordering::Release);
                // A write may have landed between the check and the store: then this read vouches for nothing.
                if ticket.number <= self.written.load(Ordering::Acquire) {
                    self.confirmed_at.store(0, Ordering::Release);
                }
            }
        }
        let before = self.state.swap(UP, Ordering::AcqRel);
        self.gave_up_resuming.store(false, Ordering::Release);
        if before != UP {
            self.outage.recovered.increment(1);
            self.outage.down.set(0.0);
            let how = if before == RESUMING {
                "resumed"
            } else {
                "reachable again"
            };
            tracing::info!("the database is {how}");
        }
    }
}

/// A version read's place among this process's writes, and when it was issued.
#[derive(Copy, Clone, Debug)]
pub struct Ticket {
    number: u64,
    at: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_outage_is_reported_once_in_the_error_chain() {
        let text = error_chain(&StoreError::KnownDown);
        assert_eq!(text.matches("known to be down").count(), 1, "{text}");
        assert!(StoreError::KnownDown.is_unavailable());
    }

    #[test]
    fn a_slow_database_is_resuming_once_until_it_answers_or_refuses() {
        let freshness = Freshness::new();
        freshness.slow_to_answer("the version read timed out while connecting");
        freshness.slow_to_answer("again");
        assert_eq!(freshness.availability(), Availability::Resuming);
        assert!(freshness.is_down(), "calls fail fast while it resumes");
        assert!(matches!(freshness.fail_fast(), Some(StoreError::Resuming)));
        let ticket = freshness.issue();
        freshness.confirm(1, ticket);
        assert_eq!(freshness.availability(), Availability::Up);
        assert!(freshness.fail_fast().is_none());
        // Refused while resuming: down.
        freshness.slow_to_answer("slow");
        freshness.probe_failed(&StoreError::KnownDown);
        assert_eq!(freshness.availability(), Availability::Down);
        assert!(matches!(freshness.fail_fast(), Some(StoreError::KnownDown)));
    }

    #[test]
    fn resuming_longer_than_the_bound_is_down_until_a_read_succeeds() {
        let freshness = Freshness::new();
        freshness.slow_to_answer_at("slow", 1_000);
        let bound = RESUME_BOUND.as_millis() as u64;
        freshness.slow_to_answer_at("still slow", 1_000 + bound);
        assert_eq!(freshness.availability(), Availability::Resuming, "within the bound");
        freshness.slow_to_answer_at("still slow", 1_001 + bound);
        assert_eq!(freshness.availability(), Availability::Down);
        freshness.slow_to_answer_at("slow again", 2_000 + bound);
        assert_eq!(
            freshness.availability(),
            Availability::Down,
            "never back to resuming in the same outage"
        );
        let ticket = freshness.issue();
        freshness.confirm(1, ticket);
        freshness.slow_to_answer("a new pause");
        assert_eq!(freshness.availability(), Availability::Resuming);
    }

    #[test]
    fn a_request_without_a_connection_counts_as_resuming_other_failures_as_down() {
        let freshness = Freshness::new();
        freshness.report_unavailable(&StoreError::Unavailable(sqlx::Error::PoolTimedOut));
        assert_eq!(freshness.availability(), Availability::Resuming);
        let other = Freshness::new();
        other.report_unavailable(&StoreError::Unavailable(sqlx::Error::PoolClosed));
        assert_eq!(other.availability(), Availability::Down);
    }

    #[test]
    fn a_read_issued_after_a_write_vouches_for_it_even_in_the_same_millisecond() {
        let freshness = Freshness::new();
        let before = freshness.issue();
        freshness.wrote();
        freshness.confirm(1, before);
        assert_eq!(
            freshness.current_version(),
            None,
            "a read issued before the write vouches for nothing"
        );
        let after = freshness.issue();
        freshness.confirm(2, after);
        assert_eq!(freshness.current_version(), Some(2));
    }

    #[test]
    fn a_read_issued_earlier_but_answered_later_cannot_take_the_version_back() {
        let freshness = Freshness::new();
        // The poller's read is issued before a write commits, the writer's after it; the writer's answers first.
        let poller = freshness.issue();
        let writer = freshness.issue();
        freshness.confirm(8, writer);
        freshness.confirm(7, poller);
        assert_eq!(freshness.current_version(), Some(8));
        assert_eq!(freshness.last_version(), 8);
        let next = freshness.issue();
        freshness.confirm(9, next);
        assert_eq!(freshness.current_version(), Some(9));
    }
}
