//! Middleware that decides without waiting: an [`Around`] sees the request, calls the inner service at most once
//! (or answers itself), and may finish the response asynchronously, all without owning the inner service.
//!
//! Why not axum's `from_fn`: its `Next` owns the rest of the stack, so every request clones everything inside the
//! middleware and boxes it again. The outermost `from_fn` (HTML error pages) cloned the whole stack, CORS's
//! configuration included, on every request; with seven of them that was the largest fixed cost of a cache hit
//! after the log line (callgrind: `clone_box`, CORS clone and drop, about 8k instructions of `/health`'s 79k).
//! An [`Around`] starts the inner call during `Service::call`, which only needs `&mut` to the inner service, so
//! nothing is cloned and only the returned future is boxed (once per middleware, as `from_fn` does too). What must wait before choosing to call the inner
//! service (the response cache's lookup) stays a `from_fn`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

/// The future of a response: what `inner` gives an [`Around`], and what it gives back.
pub trait Answer: Future<Output = Response> + Send + 'static {}

impl<F: Future<Output = Response> + Send + 'static> Answer for F {}

/// One middleware. `around` runs when the request arrives: it may call `inner` (at most once, and only there:
/// the call is what forwards the request), and returns the future of the final response.
pub trait Around: Clone + Send + Sync + 'static {
    fn around<A: Answer>(&self, request: Request, inner: impl FnOnce(Request) -> A) -> impl Answer;
}

/// The tower layer of an [`Around`].
#[derive(Clone)]
pub struct AroundLayer<A>(pub A);

impl<A: Around, S> Layer<S> for AroundLayer<A> {
    type Service = AroundService<A, S>;

    fn layer(&self, inner: S) -> Self::Service {
        AroundService {
            around: self.0.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub struct AroundService<A, S> {
    around: A,
    inner: S,
}

impl<A, S> Service<Request> for AroundService<A, S>
where
    A: Around,
    S: Service<Request, Error = Infallible>,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let inner = &mut self.inner;
        let response = self.around.around(request, |request| {
            let answer = inner.call(request);
            async move {
                match answer.await {
                    Ok(response) => response.into_response(),
                    Err(never) => match never {},
                }
            }
        });
        Box::pin(async move { Ok(response.await) })
    }
}
