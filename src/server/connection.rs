//! One client connection, served by hyper's HTTP/1 state machine with the two deadlines `axum::serve` does not set:
//! - **header read**: a request's head must arrive within `header_read` of its first byte (of the accept, for a
//!   connection's first request), so a client trickling headers one byte at a time is cut off;
//! - **idle**: a keep-alive connection with no request in progress is closed after `idle`.
//!
//! hyper's own `header_read_timeout` cannot tell the two apart (its clock starts when it begins waiting for a head,
//! idle time included), and the idle bound must stay above the load balancer's (ALB: 60 s) so the load balancer,
//! not the service, closes idle connections: closing first races a request the load balancer is already sending
//! and turns it into a 502. So the connection keeps its own [`Clock`]: the stream marks the first byte after an idle
//! spell, the service marks a request's start, and the response body marks its end when hyper drops it; a watchdog
//! timer per connection reads it when it fires.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tower::{Service, ServiceExt};

/// The largest request head (request line and headers) accepted; hyper answers 431 beyond it. The ALB's own limit
/// on a whole head is 64 KiB, and this bounds what each held connection can make the server buffer.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How long a connection may spend on each phase (see the module documentation).
#[derive(Clone, Copy, Debug)]
pub struct Deadlines {
    pub header_read: Duration,
    pub idle: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// Receiving a request head: from the accept, or from the first byte after an idle spell.
    ReadingHead = 0,
    /// A request is being answered: the request timeout bounds it, not this clock.
    Answering = 1,
    /// Between requests, nothing received yet.
    Idle = 2,
}

/// Where a connection is in its request cycle, and since when: the phase in the top two bits of one atomic word,
/// the milliseconds since the accept in the rest. It changes a few times a request on the hot path, so it takes no
/// lock and wakes nobody: the watchdog looks at it when its own timer fires (see [`serve`]).
struct Clock {
    accepted: Instant,
    state: AtomicU64,
}

const PHASE_SHIFT: u32 = 62;

impl Clock {
    fn new() -> Self {
        Self {
            accepted: Instant::now(),
            state: AtomicU64::new(Self::pack(Phase::ReadingHead, 0)),
        }
    }

    fn pack(phase: Phase, millis: u64) -> u64 {
        ((phase as u64) << PHASE_SHIFT) | (millis & ((1 << PHASE_SHIFT) - 1))
    }

    fn now(&self) -> u64 {
        u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn enter(&self, phase: Phase) {
        self.state.store(Self::pack(phase, self.now()), Ordering::Release);
    }

    /// Bytes arrived: after an idle spell they are the start of the next head.
    fn bytes_received(&self) {
        let current = self.state.load(Ordering::Acquire);
        if current >> PHASE_SHIFT == Phase::Idle as u64 {
            let reading = Self::pack(Phase::ReadingHead, self.now());
            // Lost only to a concurrent change of phase, which is newer than this.
            let _ = self
                .state
                .compare_exchange(current, reading, Ordering::AcqRel, Ordering::Acquire);
        }
    }

    fn phase(&self) -> (Phase, Instant) {
        let state = self.state.load(Ordering::Acquire);
        let phase = match state >> PHASE_SHIFT {
            0 => Phase::ReadingHead,
            1 => Phase::Answering,
            _ => Phase::Idle,
        };
        let since = self.accepted + Duration::from_millis(state & ((1 << PHASE_SHIFT) - 1));
        (phase, since)
    }

    /// When the watchdog should look next, or `None` when the connection is past its deadline. While idle it looks
    /// at least every `header_read` as well: the idle spell may have turned into a head being read meanwhile, whose
    /// deadline is then met within twice `header_read` at worst.
    fn next_check(&self, deadlines: &Deadlines, now: Instant) -> Option<Instant> {
        let (phase, since) = self.phase();
        let deadline = match phase {
            Phase::ReadingHead => since + deadlines.header_read,
            Phase::Idle => since + deadlines.idle,
            // Nothing to enforce while answering: look again when an idle spell could have ended.
            Phase::Answering => return Some(now + deadlines.idle),
        };
        if deadline <= now {
            return None;
        }
        Some(match phase {
            Phase::Idle => deadline.min(now + deadlines.header_read),
            _ => deadline,
        })
    }
}

/// The TCP stream, telling the clock when bytes arrive.
struct ClockedStream {
    inner: TcpStream,
    clock: Arc<Clock>,
}

impl AsyncRead for ClockedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.clock.bytes_received();
        }
        result
    }
}

impl AsyncWrite for ClockedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Marks the end of an answer when dropped: hyper drops a response body once it is written (or abandoned), and
/// that, not the handler's return, is when the connection becomes idle (a slow reader is not idle).
struct AnswerInProgress(Arc<Clock>);

impl Drop for AnswerInProgress {
    fn drop(&mut self) {
        self.0.enter(Phase::Idle);
    }
}

/// A response body carrying the [`AnswerInProgress`] marker.
struct ClockedBody {
    inner: Body,
    _answer: AnswerInProgress,
}

impl http_body::Body for ClockedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Serves one connection until the client closes it, a deadline passes, or `stopping` fires (then the request in
/// progress, if any, is finished and the connection closed).
pub async fn serve<S>(
    stream: TcpStream,
    peer: SocketAddr,
    app: S,
    deadlines: Deadlines,
    mut stopping: watch::Receiver<()>,
) where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let clock = Arc::new(Clock::new());
    let io = TokioIo::new(ClockedStream {
        inner: stream,
        clock: clock.clone(),
    });
    let service = {
        let clock = clock.clone();
        hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            clock.enter(Phase::Answering);
            let answer = AnswerInProgress(clock.clone());
            // What `into_make_service_with_connect_info` would provide: the rate limiter's TCP peer.
            request.extensions_mut().insert(ConnectInfo(peer));
            let call = app.clone().oneshot(request.map(Body::new));
            async move {
                let response = call.await?;
                Ok::<_, Infallible>(response.map(|inner| ClockedBody { inner, _answer: answer }))
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // Deadlines are the clock's; hyper's own header timer (which counts idle time too) stays off.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .max_header_size(MAX_HEAD_BYTES);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let watchdog = tokio::time::sleep(deadlines.header_read);
    tokio::pin!(watchdog);
    let mut stop_requested = false;
    loop {
        tokio::select! {
            biased;
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                return;
            }
            () = &mut watchdog => {
                let now = Instant::now();
                match clock.next_check(&deadlines, now) {
                    Some(at) => watchdog.as_mut().reset(at),
                    None => {
                        tracing::debug!(%peer, phase = ?clock.phase().0, "closing a connection past its deadline");
                        return;
                    }
                }
            }
            _ = stopping.changed(), if !stop_requested => {
                stop_requested = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}
