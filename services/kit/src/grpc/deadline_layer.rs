//! Server-side layer that makes the caller's `grpc-timeout` the handler's ambient [`Deadline`].

use std::time::Duration;

use tower::Service;

use crate::{
    deadline::{Deadline, parse_grpc_timeout},
    grpc::per_call::{CallFuture, PerCallLayer, WrapCall},
};

/// Scopes every request with the deadline its `grpc-timeout` implies, capped at `max`.
pub type DeadlineLayer = PerCallLayer<CallDeadline>;

/// The deadline a [`DeadlineLayer`] gives each call.
#[derive(Debug, Clone, Copy)]
pub struct CallDeadline {
    max: Duration,
}

impl DeadlineLayer {
    /// A layer whose requests never get more than `max`, whatever the caller asked for.
    pub fn new(max: Duration) -> Self {
        PerCallLayer(CallDeadline { max })
    }
}

impl<S, B> WrapCall<S, B> for CallDeadline
where
    S: Service<http::Request<B>> + Send + 'static,
    S::Future: Send + 'static,
{
    fn wrap(&self, mut inner: S, request: http::Request<B>) -> CallFuture<S::Response, S::Error> {
        let budget =
            request_budget(request.headers()).map_or(self.max, |asked| asked.min(self.max));
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
