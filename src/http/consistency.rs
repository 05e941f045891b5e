//! Read-your-writes within a request. With a read replica, catalog reads normally go to it; a request that writes
//! (any method but GET, HEAD, OPTIONS or TRACE) has all of its reads served by the primary instead, so whatever it
//! reads back, for its response or its own checks, includes its write, which the replica may not have replayed.

use axum::extract::Request;

use super::around::{Answer, Around};
use crate::storage::read_preference::reads_on_primary;

/// The middleware ([`Around`]): a write's whole handler runs with its reads on the primary.
#[derive(Clone, Copy)]
pub struct WritesReadTheirWrites;

impl Around for WritesReadTheirWrites {
    fn around<A: Answer>(&self, request: Request, inner: impl FnOnce(Request) -> A) -> impl Answer {
        let safe = request.method().is_safe();
        // Creating the handler's future does no work yet: all of it runs when polled, inside the scope.
        let answer = inner(request);
        async move {
            if safe {
                answer.await
            } else {
                reads_on_primary(answer).await
            }
        }
    }
}
