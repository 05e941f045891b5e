//! One client connection, served by hyper's HTTP/1 state machine with the two deadlines `axum::serve` does not set:
//! - **header read**: a request's head must arrive within `header_read` of its first byte (of the accept, for a
//!   connection's first request), so a client trickling headers one byte at a time is cut off;
//! - **idle**: a keep-alive connection with no request in progress is closed after `idle`.
//!
//! hyper's own `header_read_timeout` cannot tell the two apart (its clock starts when it begins waiting for a head,
//! idle time included), and the idle bound must stay above the load balancer's (ALB: 60 s) so the load balancer,
//! not the service, closes idle connections: closing first races a request the load balancer is already sending
//! and turns it into a 502. So the connection keeps its own [`Clock`]: the stream marks the first byte after an idle
//! spell, the service marks a request's start, and the response body marks its end when hyper drops it.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, watch};
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
    ReadingHead,
    /// A request is being answered: the request timeout bounds it, not this clock.
    Answering,
    /// Between requests, nothing received yet.
    Idle,
}

/// Where a connection is in its request cycle, and since when.
struct Clock {
    state: Mutex<(Phase, Instant)>,
    /// Wakes the watchdog when a deadline moves earlier or appears (idle -> reading, answering -> idle).
    changed: Notify,
}

impl Clock {
    fn new() -> Self {
        Self {
            state: Mutex::new((Phase::ReadingHead, Instant::now())),
            changed: Notify::new(),
        }
    }

    fn enter(&self, phase: Phase) {
        *self.state.lock().expect("connection clock") = (phase, Instant::now());
        self.changed.notify_one();
    }

    /// Bytes arrived: after an idle spell they are the start of the next head.
    fn bytes_received(&self) {
        let mut state = self.state.lock().expect("connection clock");
        if state.0 == Phase::Idle {
            *state = (Phase::ReadingHead, Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    fn deadline(&self, deadlines: &Deadlines) -> Option<(Instant, Phase)> {
        let (phase, since) = *self.state.lock().expect("connection clock");
        match phase {
            Phase::ReadingHead => Some((since + deadlines.header_read, phase)),
            Phase::Idle => Some((since + deadlines.idle, phase)),
            Phase::Answering => None,
        }
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
                Ok::<_, Infallible>(response.map(|inner| Body::new(ClockedBody { inner, _answer: answer })))
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
    let mut stop_requested = false;
    loop {
        let deadline = clock.deadline(&deadlines);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                return;
            }
            () = sleep_until(deadline.map(|(at, _)| at)) => {
                // The phase may have moved on while this slept; only a deadline that still holds ends it.
                if let Some((at, phase)) = clock.deadline(&deadlines) && at <= Instant::now() {
                    tracing::debug!(%peer, ?phase, "closing a connection past its deadline");
                    return;
                }
            }
            () = clock.changed.notified() => {}
            _ = stopping.changed(), if !stop_requested => {
                stop_requested = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
