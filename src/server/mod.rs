//! Accepting and serving client connections within bounds: a cap on open connections (a connection over it gets an
//! immediate 503 and is closed, instead of the accept errors an exhausted open-file limit gives), a header-read
//! and an idle deadline per connection ([`connection`]), and a graceful stop. `axum::serve` has none of these knobs,
//! so the accept loop is written here, on hyper's HTTP/1 connection as `axum::serve` uses it.

pub mod budget;
mod connection;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::Service;

pub use budget::Budget;
pub use connection::{Deadlines, MAX_HEAD_BYTES};

/// Connection settings (`MAX_CONNECTIONS`, `HEADER_READ_TIMEOUT_SECS`, `KEEP_ALIVE_TIMEOUT_SECS`).
#[derive(Clone, Copy, Debug)]
pub struct ConnectionSettings {
    /// `None`: as many as the open-file limit allows, up to [`budget::DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: Option<usize>,
    pub deadlines: Deadlines,
}

/// How long an over-cap client gets to receive its 503, and then to close its side, before the connection is
/// dropped: short, since each refusal in progress holds a descriptor.
const REFUSAL_WRITE_TIME: Duration = Duration::from_millis(500);
const REFUSAL_DRAIN_TIME: Duration = Duration::from_millis(250);

/// After an accept error that is not about one connection (EMFILE, ENFILE, ENOBUFS), wait this long before the next
/// accept: long enough not to spin, short enough that service resumes as soon as descriptors free up.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, lets every connection finish its
/// request in progress, and returns when all are closed or `grace` has passed (`false` then).
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    max_connections: usize,
    deadlines: Deadlines,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> bool
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let connections = Arc::new(Semaphore::new(max_connections));
    let refusals = Arc::new(Semaphore::new(budget::REFUSALS_IN_FLIGHT));
    let refusal = refusal_response();
    // Every connection holds a receiver; dropping the sender asks them all to stop.
    let (stop, stopping) = watch::channel(());
    let mut over_cap = false;
    let mut accept_failing = false;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                if !std::mem::replace(&mut accept_failing, true) {
                    tracing::error!(%error, "cannot accept connections; retrying (is the open-file limit too low?)");
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if std::mem::replace(&mut accept_failing, false) {
            tracing::info!("accepting connections again");
        }
        match connections.clone().try_acquire_owned() {
            Ok(permit) => {
                if std::mem::replace(&mut over_cap, false) {
                    tracing::info!(max_connections, "below the connection cap again");
                }
                let (app, stopping) = (app.clone(), stopping.clone());
                tokio::spawn(async move {
                    connection::serve(stream, peer, app, deadlines, stopping).await;
                    drop(permit);
                });
            }
            Err(_) => {
                if !std::mem::replace(&mut over_cap, true) {
                    tracing::warn!(
                        max_connections,
                        "connection cap reached: new connections are answered 503"
                    );
                }
                refuse(stream, &refusals, refusal.clone());
            }
        }
    }
    drop(listener);
    drop(stop);
    // Each connection returns its permit when it closes: holding all of them means every connection is done.
    let all_closed = connections.acquire_many(max_connections as u32);
    tokio::time::timeout(grace, all_closed).await.is_ok()
}

/// Errors about one connection (it was reset before it was accepted): the listener is fine.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// The answer to a connection over the cap, written without parsing its request.
fn refusal_response() -> Arc<[u8]> {
    let body = r#"{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"the server is at its connection limit; retry shortly"}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\n\
         retry-after: 1\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
    .into()
}

/// Writes the 503 and closes, within [`REFUSAL_WRITE_TIME`] and [`REFUSAL_DRAIN_TIME`]; past [`budget::REFUSALS_IN_FLIGHT`] refusals at once the
/// connection is just closed (the descriptor budget counts on that bound).
fn refuse(mut stream: TcpStream, refusals: &Arc<Semaphore>, refusal: Arc<[u8]>) {
    let Ok(permit) = refusals.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let written = tokio::time::timeout(REFUSAL_WRITE_TIME, async {
            stream.write_all(&refusal).await?;
            stream.shutdown().await
        })
        .await;
        if matches!(written, Ok(Ok(()))) {
            // Read what the client sent before closing: closing with unread bytes makes the kernel send a reset,
            // which can reach the client before the 503 does.
            let mut sink = [0u8; 4096];
            let _ = tokio::time::timeout(REFUSAL_DRAIN_TIME, async {
                while stream.read(&mut sink).await? > 0 {}
                Ok::<_, io::Error>(())
            })
            .await;
        }
        drop(permit);
    });
}
