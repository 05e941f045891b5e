//! Where the read model's queries run: threads of their own, one per core, in arrival order.

use std::sync::Arc;

type Evaluation = Box<dyn FnOnce() + Send>;

/// Threads that evaluate queries on the index, one per core, taking them in arrival order. An evaluation is pure
/// CPU, so more at once would only slice the same cores finer (every request slower); and each holds its matches
/// while it runs (a sort at a million beers: tens of MB), which on the blocking pool's many threads ends up kept
/// by as many allocator arenas (measured: 950 MB peak RSS under 8 connections of deep sorts, instead of ~300).
pub(super) struct Evaluator {
    queue: std::sync::mpsc::Sender<Evaluation>,
}

impl Evaluator {
    pub(super) fn start() -> Self {
        let (queue, jobs) = std::sync::mpsc::channel::<Evaluation>();
        let jobs = Arc::new(std::sync::Mutex::new(jobs));
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        for n in 0..cores {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("read-model-{n}"))
                .spawn(move || {
                    loop {
                        // Ends when the store (the sender) is dropped.
                        let job = match jobs.lock().expect("a job never panics holding the queue").recv() {
                            Ok(job) => job,
                            Err(_) => return,
                        };
                        job();
                    }
                })
                .expect("the read model's threads start");
        }
        Self { queue }
    }

    pub(super) async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> T {
        let (done, result) = tokio::sync::oneshot::channel();
        self.queue
            .send(Box::new(move || {
                let _ = done.send(work());
            }))
            .expect("the read model's threads run while the store exists");
        result.await.expect("evaluating a filter does not panic")
    }
}
