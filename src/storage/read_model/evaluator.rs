//! Where the read model's queries run: threads of their own, one per core, in arrival order, behind a bounded
//! queue that sheds load.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};

use crate::storage::{StoreError, StoreResult};

type Evaluation = Box<dyn FnOnce() + Send>;

/// Evaluations waiting for a thread, at most, per core. Past it a query is refused at once ([`StoreError::Busy`],
/// a 503 with `Retry-After`) rather than queued behind work that would push it past the request timeout anyway: at
/// a million beers a scan-heavy evaluation takes up to about 30 ms, so a full queue is some 8 s of work, under the
/// 10 s timeout. Normal load stays far below it: each request queues at most two evaluations (its page and its
/// count), so 64 busy connections queue 128 (32 per core refused some of them, measured in `bench/run`).
const QUEUED_PER_CORE: usize = 256;

/// Threads that evaluate queries on the index, one per core, taking them in arrival order. An evaluation is pure
/// CPU, so more at once would only slice the same cores finer (every request slower); and each holds its matches
/// while it runs (a sort at a million beers: tens of MB), which on the blocking pool's many threads ends up kept
/// by as many allocator arenas (measured: 950 MB peak RSS under 8 connections of deep sorts, instead of ~300).
pub(super) struct Evaluator {
    queue: SyncSender<Evaluation>,
}

impl Evaluator {
    pub(super) fn start() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self::with(cores, QUEUED_PER_CORE * cores)
    }

    fn with(threads: usize, capacity: usize) -> Self {
        let (queue, jobs) = std::sync::mpsc::sync_channel::<Evaluation>(capacity);
        let jobs = Arc::new(std::sync::Mutex::new(jobs));
        for n in 0..threads {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("read-model-{n}"))
                .spawn(move || work(&jobs))
                .expect("the read model's threads start");
        }
        Self { queue }
    }

    /// Runs `work` on the evaluation threads. A request that has gone (its client disconnected, or it timed out)
    /// before its turn costs nothing: its evaluation is dropped unrun.
    pub(super) async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> StoreResult<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Evaluation = Box::new(move || {
            if !done.is_closed() {
                let _ = done.send(work());
            }
        });
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(StoreError::Busy),
            Err(TrySendError::Disconnected(_)) => unreachable!("the read model's threads run while it exists"),
        }
        Ok(result.await.expect("evaluating a filter does not panic"))
    }
}

fn work(jobs: &std::sync::Mutex<Receiver<Evaluation>>) {
    loop {
        // Ends when the read model (the sender) is dropped.
        let job = match jobs.lock().expect("a job never panics holding the queue").recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        job();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_abandoned_work_is_dropped_unrun() {
        // One thread, one place in the queue.
        let evaluator = Arc::new(Evaluator::with(1, 1));
        let (started, has_started) = std::sync::mpsc::channel::<()>();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let busy = tokio::spawn({
            let evaluator = evaluator.clone();
            async move {
                evaluator
                    .run(move || {
                        started.send(()).unwrap();
                        hold.recv().unwrap()
                    })
                    .await
            }
        });
        while has_started.try_recv().is_err() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // A request waits in the queue; the next one is refused without waiting.
        let ran = Arc::new(AtomicUsize::new(0));
        let waiting = tokio::spawn({
            let (evaluator, ran) = (evaluator.clone(), ran.clone());
            async move { evaluator.run(move || ran.fetch_add(1, Ordering::SeqCst)).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(matches!(evaluator.run(|| ()).await, Err(StoreError::Busy)));
        // The waiting request's client goes away before its turn: its evaluation must not run.
        waiting.abort();
        let _ = waiting.await;
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        // The thread takes the abandoned evaluation off the queue (and drops it) in a moment; then work is taken
        // again.
        let started = std::time::Instant::now();
        let answer = loop {
            match evaluator.run(|| 7).await {
                Err(StoreError::Busy) if started.elapsed() < Duration::from_secs(5) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                other => break other,
            }
        };
        assert_eq!(answer.unwrap(), 7, "the queue drains and takes work again");
        assert_eq!(ran.load(Ordering::SeqCst), 0, "the abandoned evaluation did not run");
    }
}
