//! Server-side layer that makes the caller's `grpc-timeout` the handler's ambient [`Deadline`].

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tower::{Layer, Service};

use crate::deadline::{Deadline, parse_grpc_timeout};

/// Scopes every request with the deadline its `grpc-timeout` implies, capped at `max`.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineLayer {
    max: Duration,
}

impl DeadlineLayer {
    /// A layer whose requests never get more than `max`, whatever the caller asked for.
    pub fn new(max: Duration) -> Self {
        Self { max }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = DeadlineService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DeadlineService {
            inner,
            max: self.max,
        }
    }
}

/// See [`DeadlineLayer`].
#[derive(Debug, Clone)]
pub struct DeadlineService<S> {
    inner: S,
    max: Duration,
}

impl<S, B> Service<http::Request<B>> for DeadlineService<S>
where
    S: Service<http::Request<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let budget =
            request_budget(request.headers()).map_or(self.max, |asked| asked.min(self.max));
        // The clone that was polled ready serves this request; the fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(Deadline::after(budget).scope(inner.call(request)))
    }
}

/// The budget a caller sent in `grpc-timeout`, if it sent a well-formed one.
pub fn request_budget(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get("grpc-timeout")
        .and_then(|value| value.to_str().ok())
        .and_then(parse_grpc_timeout)
}
