//! An over-limit body gets a 413 the client can read.
//!
//! When a handler answers without reading the whole request body (a 413 for a body over the limit, a 401 before
//! the body of a write), hyper closes the connection as soon as the answer is written. The client is usually
//! still sending: the kernel then resets the connection because unread data arrived, and the reset can destroy
//! the answer before the client reads it, so the client sees "connection reset" instead of the 413 that says
//! what to fix. Here the handler reads the body through a shared handle; whatever it leaves is read and
//! discarded after the answer has gone out, up to [`DRAIN_MAX_BYTES`] and [`DRAIN_MAX_TIME`] (a client must not
//! be able to make the server read forever to be told no). Past either bound the connection is closed, as before.
//!
//! One exception: a client that sent `Expect: 100-continue` and whose body the handler never asked for has not
//! sent it, and will not once it reads the answer. Reading would only make hyper solicit the body with a
//! `100 Continue`; instead the body is let go, and hyper answers and closes without it.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::header;
use http_body::{Frame, SizeHint};

use super::around::{Answer, Around};

/// The most of an unwanted body read after the answer: well above the largest accepted body (2 MiB images by
/// default), so a client that sends somewhat too much reads why; far below what would cost anything.
pub const DRAIN_MAX_BYTES: u64 = 8 * 1024 * 1024;
/// How long the rest of an unwanted body is waited for.
pub const DRAIN_MAX_TIME: Duration = Duration::from_secs(10);

/// The request body, shared by the handler's reads and this middleware, which outlives the handler.
struct Slot {
    body: Mutex<Option<Body>>,
    /// Whether anything asked for the body (with `Expect: 100-continue`, that is what makes the client send it).
    polled: AtomicBool,
}

impl Slot {
    fn take(&self) -> Option<Body> {
        self.body.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// The request body as the handler sees it: reads go to the body kept in the shared slot.
struct SharedBody(Arc<Slot>);

impl SharedBody {
    fn with_body<T>(&self, default: T, f: impl FnOnce(&mut Body) -> T) -> T {
        let mut body = self.0.body.lock().unwrap_or_else(PoisonError::into_inner);
        body.as_mut().map_or(default, f)
    }
}

impl HttpBody for SharedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        self.0.polled.store(true, Ordering::Relaxed);
        self.with_body(Poll::Ready(None), |body| Pin::new(body).poll_frame(cx))
    }

    fn is_end_stream(&self) -> bool {
        self.with_body(true, |body| body.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.with_body(SizeHint::with_exact(0), |body| body.size_hint())
    }
}

/// The middleware ([`Around`]): lets the handler read the body, then reads and discards what it left, after the
/// answer.
#[derive(Clone, Copy)]
pub struct FinishReadingBody;

impl Around for FinishReadingBody {
    fn around<A: Answer>(&self, request: Request, inner: impl FnOnce(Request) -> A) -> impl Answer {
        let (parts, body) = request.into_parts();
        let (body, kept) = if body.is_end_stream() {
            // No body (every GET): nothing to keep.
            (body, None)
        } else {
            let expects_continue = parts
                .headers
                .get(header::EXPECT)
                .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
            let slot = Arc::new(Slot {
                body: Mutex::new(Some(body)),
                polled: AtomicBool::new(false),
            });
            (Body::new(SharedBody(slot.clone())), Some((slot, expects_continue)))
        };
        let answer = inner(Request::from_parts(parts, body));
        async move {
            let response = answer.await;
            if let Some((slot, expects_continue)) = kept {
                let unread = slot.take().filter(|body| !body.is_end_stream());
                let never_sent = expects_continue && !slot.polled.load(Ordering::Relaxed);
                if let Some(unread) = unread.filter(|_| !never_sent) {
                    // Spawned, so the answer is written now while the rest arrives; hyper keeps the connection
                    // reading for as long as the body is held.
                    tokio::spawn(discard(unread));
                }
            }
            response
        }
    }
}

async fn discard(mut body: Body) {
    let mut discarded: u64 = 0;
    let read_to_end = async {
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            let Ok(frame) = frame else { return false };
            discarded += frame.data_ref().map_or(0, |data| data.len() as u64);
            if discarded > DRAIN_MAX_BYTES {
                return false;
            }
        }
        true
    };
    let finished = tokio::time::timeout(DRAIN_MAX_TIME, read_to_end).await.unwrap_or(false);
    tracing::debug!(discarded, finished, "discarded the unread rest of a request body");
}
