//! Read-your-writes within a request. With a read replica, catalog reads normally go to it; a request that writes
//! (any method but GET, HEAD, OPTIONS or TRACE) has all of its reads served by the primary instead, so whatever it
//! reads back, for its response or its own checks, includes its write, which the replica may not have replayed.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use crate::storage::read_preference::reads_on_primary;

pub async fn writes_read_their_writes(request: Request, next: Next) -> Response {
    if request.method().is_safe() {
        next.run(request).await
    } else {
        reads_on_primary(next.run(request)).await
    }
}
