//! The read model's warm-up: how far its first build has come, and whether the process should be given traffic yet.
//! A process that starts without an index answers every list from SQL, where the scan-heavy filters cost seconds at
//! a million beers (docs/performance.md); so until the first build is installed the process says it is warming, and
//! the load balancer keeps traffic on the tasks that are warm. Bounded: a build that fails, or takes longer than
//! [`WarmupSettings::timeout`], stops holding the process back; it then serves from SQL (correct, only slower) and
//! says so, while the build goes on (or is retried) in the background.
//!
//! Only the first build counts: a later rebuild (after a bulk import) happens on a process already in service,
//! which keeps answering from SQL meanwhile, as it always did; taking every task out of service for it would be an
//! outage.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// What the warm-up may wait for.
#[derive(Clone, Debug)]
pub struct WarmupSettings {
    /// How long the process reports itself warming before it serves from SQL anyway
    /// (`READ_MODEL_WARMUP_TIMEOUT_SECS`); zero: it never waits.
    pub timeout: Duration,
    /// Tests only: holds the first build until released. `None` in the server.
    pub hold: Option<WarmupHold>,
}

impl WarmupSettings {
    /// `READ_MODEL_WARMUP_TIMEOUT_SECS`'s default.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
}

impl Default for WarmupSettings {
    fn default() -> Self {
        Self {
            timeout: Self::DEFAULT_TIMEOUT,
            hold: None,
        }
    }
}

/// Holds the read model's first build before it reads anything, until [`WarmupHold::release`]: a test sees a
/// process that is still warming (and one past its bound) without a catalog big enough to take seconds to read.
#[derive(Clone, Debug)]
pub struct WarmupHold(tokio::sync::watch::Sender<bool>);

impl Default for WarmupHold {
    fn default() -> Self {
        Self(tokio::sync::watch::Sender::new(false))
    }
}

impl WarmupHold {
    pub fn release(&self) {
        self.0.send_replace(true);
    }

    pub(super) async fn released(&self) {
        let mut released = self.0.subscribe();
        // The sender is `self`: the channel cannot close while this waits.
        let _ = released.wait_for(|released| *released).await;
    }
}

/// Where the read model stands, for readiness reporting.
#[derive(Clone, Debug, PartialEq)]
pub enum Warmth {
    /// The first build is under way (within the bound): `loaded` beers read of `total` (once counted).
    Building {
        elapsed: Duration,
        timeout: Duration,
        loaded: u64,
        total: Option<u64>,
    },
    /// The first build was installed `took` after the read model started: lists, counts and filters are answered
    /// from memory.
    Warm { took: Duration },
    /// Serving from SQL: the first build failed, or is still running past the bound. It goes on (or is retried) in
    /// the background, and the read model turns warm when it is installed.
    ServingFromSql(GaveUp),
}

/// Why the warm-up stopped holding the process back before the read model was built.
#[derive(Clone, Debug, PartialEq)]
pub enum GaveUp {
    /// The build failed (the error is in the log).
    BuildFailed,
    /// The build ran past [`WarmupSettings::timeout`].
    TimedOut {
        timeout: Duration,
        loaded: u64,
        total: Option<u64>,
    },
}

impl Warmth {
    /// Whether the process may be given traffic: warm, or no longer waiting for the read model.
    pub fn is_settled(&self) -> bool {
        !matches!(self, Warmth::Building { .. })
    }

    /// A label for the state (metrics, `/ready`'s status words).
    pub fn state(&self) -> &'static str {
        match self {
            Warmth::Building { .. } => "building",
            Warmth::Warm { .. } => "warm",
            Warmth::ServingFromSql(_) => "serving_from_sql",
        }
    }
}

impl std::fmt::Display for Warmth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let progress = |f: &mut std::fmt::Formatter<'_>, loaded: u64, total: Option<u64>| match total {
            Some(total) => write!(f, "{loaded} of {total} beers"),
            None => write!(f, "{loaded} beers read"),
        };
        match self {
            Warmth::Building {
                elapsed,
                timeout,
                loaded,
                total,
            } => {
                write!(f, "warming: read model building, ")?;
                progress(f, *loaded, *total)?;
                write!(
                    f,
                    " ({:.1} s of at most {} s; READ_MODEL_WARMUP_TIMEOUT_SECS)",
                    elapsed.as_secs_f64(),
                    timeout.as_secs()
                )
            }
            Warmth::Warm { took } => write!(f, "warm: built in {:.1} s", took.as_secs_f64()),
            Warmth::ServingFromSql(GaveUp::BuildFailed) => write!(
                f,
                "serving from SQL: the read model's build failed (see the log); retrying in the background"
            ),
            Warmth::ServingFromSql(GaveUp::TimedOut { timeout, loaded, total }) => {
                write!(
                    f,
                    "serving from SQL: the read model was not built within READ_MODEL_WARMUP_TIMEOUT_SECS ({} s); \
                     still building in the background, ",
                    timeout.as_secs()
                )?;
                progress(f, *loaded, *total)
            }
        }
    }
}

/// Beers the build has read so far, and how many there are, counted beside it.
#[derive(Default, Debug)]
pub struct BuildProgress {
    loaded: AtomicU64,
    /// `u64::MAX` until counted.
    total: AtomicU64,
}

impl BuildProgress {
    pub fn new() -> Self {
        Self {
            loaded: AtomicU64::new(0),
            total: AtomicU64::new(u64::MAX),
        }
    }

    /// `beers` more were read.
    pub fn add(&self, beers: u64) {
        self.loaded.fetch_add(beers, Ordering::Relaxed);
    }

    pub(super) fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }

    /// A build starts over (a failed one is retried): nothing of it is read yet.
    pub(crate) fn restart(&self) {
        self.loaded.store(0, Ordering::Relaxed);
    }

    fn read(&self) -> (u64, Option<u64>) {
        let total = self.total.load(Ordering::Relaxed);
        (
            self.loaded.load(Ordering::Relaxed),
            (total != u64::MAX).then_some(total),
        )
    }
}

/// The warm-up's record: when it started, the first build's progress, and how it ended.
pub(super) struct Warmup {
    started: Instant,
    timeout: Duration,
    pub(super) hold: Option<WarmupHold>,
    pub(super) progress: Arc<BuildProgress>,
    warm_after: OnceLock<Duration>,
    failed: OnceLock<()>,
    /// Whether the beers are being (or were) counted for the progress's total.
    pub(super) counting: AtomicBool,
}

impl Warmup {
    pub(super) fn start(settings: WarmupSettings) -> Self {
        Self {
            started: Instant::now(),
            timeout: settings.timeout,
            hold: settings.hold,
            progress: Arc::new(BuildProgress::new()),
            warm_after: OnceLock::new(),
            failed: OnceLock::new(),
            counting: AtomicBool::new(false),
        }
    }

    /// An index was installed: warm from now on, whatever later refreshes do.
    pub(super) fn built(&self) {
        if self.warm_after.set(self.started.elapsed()).is_ok() {
            tracing::info!(
                warmup_ms = self.started.elapsed().as_millis() as u64,
                "read model warm: ready for traffic"
            );
        }
    }

    /// A build failed before any index was installed: stop holding the process back.
    pub(super) fn build_failed(&self) {
        if self.warm_after.get().is_none() && self.failed.set(()).is_ok() {
            tracing::warn!("read model build failed during warm-up: ready anyway, serving from SQL until it is built");
        }
    }

    pub(super) fn is_warm(&self) -> bool {
        self.warm_after.get().is_some()
    }

    pub(super) fn warmth(&self) -> Warmth {
        if let Some(took) = self.warm_after.get() {
            return Warmth::Warm { took: *took };
        }
        if self.failed.get().is_some() {
            return Warmth::ServingFromSql(GaveUp::BuildFailed);
        }
        let (loaded, total) = self.progress.read();
        let elapsed = self.started.elapsed();
        if elapsed >= self.timeout {
            return Warmth::ServingFromSql(GaveUp::TimedOut {
                timeout: self.timeout,
                loaded,
                total,
            });
        }
        Warmth::Building {
            elapsed,
            timeout: self.timeout,
            loaded,
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warming_reports_its_progress_then_gives_up_past_the_bound() {
        let warmup = Warmup::start(WarmupSettings {
            timeout: Duration::from_secs(3600),
            hold: None,
        });
        warmup.progress.add(250);
        let warmth = warmup.warmth();
        assert!(!warmth.is_settled());
        assert!(
            warmth
                .to_string()
                .starts_with("warming: read model building, 250 beers read ("),
            "{warmth}"
        );
        warmup.progress.set_total(1_000);
        assert!(warmup.warmth().to_string().contains("250 of 1000 beers"));

        let past = Warmup::start(WarmupSettings {
            timeout: Duration::ZERO,
            hold: None,
        });
        let warmth = past.warmth();
        assert!(warmth.is_settled());
        assert!(warmth.to_string().starts_with("serving from SQL: "), "{warmth}");
        past.built();
        assert_eq!(past.warmth().state(), "warm");
    }

    #[test]
    fn a_failed_first_build_settles_and_a_later_success_is_warm() {
        let warmup = Warmup::start(WarmupSettings::default());
        warmup.build_failed();
        assert_eq!(warmup.warmth(), Warmth::ServingFromSql(GaveUp::BuildFailed));
        warmup.built();
        assert!(matches!(warmup.warmth(), Warmth::Warm { .. }));
        // Once warm, a failed refresh changes nothing.
        warmup.build_failed();
        assert!(matches!(warmup.warmth(), Warmth::Warm { .. }));
    }
}
