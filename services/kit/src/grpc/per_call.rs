//! The shape every server-side per-call layer shares: a [`PerCallLayer`] hands each call of the
//! service below it, with that service ready, to a [`WrapCall`] (a deadline scope, a timer), and
//! leaves readiness to the inner service.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use tower::{Layer, Service};

/// What a wrapped call returns.
pub type CallFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

/// What a [`PerCallLayer`] does with each call.
pub trait WrapCall<S, B>
where
    S: Service<http::Request<B>>,
{
    /// Runs `request` on `inner` (polled ready), wrapped in whatever the layer adds.
    fn wrap(&self, inner: S, request: http::Request<B>) -> CallFuture<S::Response, S::Error>;
}

/// A layer that wraps every call in `W` (see [`WrapCall`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct PerCallLayer<W>(pub W);

impl<S, W: Clone> Layer<S> for PerCallLayer<W> {
    type Service = PerCall<S, W>;

    fn layer(&self, inner: S) -> Self::Service {
        PerCall {
            inner,
            wrap: self.0.clone(),
        }
    }
}

/// See [`PerCallLayer`].
#[derive(Debug, Clone)]
pub struct PerCall<S, W> {
    inner: S,
    wrap: W,
}

impl<S, W, B> Service<http::Request<B>> for PerCall<S, W>
where
    S: Service<http::Request<B>> + Clone,
    W: WrapCall<S, B>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = CallFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The clone that was polled ready serves this request; the fresh clone waits for the next.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        self.wrap.wrap(inner, request)
    }
}
