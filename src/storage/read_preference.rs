//! Read preference: whether this request must read the primary. With a read replica, catalog reads normally go to
//! it; a request that writes has every read it makes served by the primary, so whatever it reads back includes its
//! own write, which the replica may not have replayed yet (the HTTP layer wraps such requests, see
//! `http::consistency`). A task-local, so the choice follows the request through every layer without a parameter
//! on every call; the replica router and the read model consult it.

use std::future::Future;

tokio::task_local! {
    static PRIMARY_PREFERRED: ();
}

/// Runs `work` with every catalog read it makes served by the primary.
pub async fn reads_on_primary<F: Future>(work: F) -> F::Output {
    PRIMARY_PREFERRED.scope((), work).await
}

/// Whether the current task runs inside [`reads_on_primary`].
pub fn primary_required() -> bool {
    PRIMARY_PREFERRED.try_with(|_| ()).is_ok()
}
