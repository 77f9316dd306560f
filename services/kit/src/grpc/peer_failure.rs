//! A peer that dies mid-call is `UNAVAILABLE`, not `UNKNOWN` or `INTERNAL`.
//!
//! tonic turns a broken connection (reset, closed before the answer, an h2 protocol error) into
//! `UNKNOWN` ("transport error") or `INTERNAL`, which the error table reads as a bug of ours: the
//! gateway would answer `500` and retries would never happen. Every error that comes out of the
//! channel itself (rather than as a `grpc-status` from the peer) is a transport failure, so this
//! layer, wrapped around the channel, reports it as `UNAVAILABLE` — retryable for idempotent calls,
//! `503` + `Retry-After` at the edge. The one exception is the call's own deadline running out,
//! which stays a deadline.

use std::{
    error::Error as StdError,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use http_body_util::BodyExt as _;
use tonic::{
    Status, TimeoutExpired,
    body::Body,
    codegen::{Body as HttpBody, Bytes},
};
use tower::Service;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Wraps a channel-like service so its transport errors (call and response body) are statuses.
#[derive(Debug, Clone)]
pub struct PeerFailures<S> {
    inner: S,
}

impl<S> PeerFailures<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

/// The status a transport error stands for.
pub fn transport_status(error: BoxError) -> Status {
    let mut source: Option<&(dyn StdError + 'static)> = Some(error.as_ref());
    while let Some(current) = source {
        if current.is::<TimeoutExpired>() {
            return Status::deadline_exceeded("the call's deadline passed");
        }
        if let Some(status) = current.downcast_ref::<Status>() {
            // Already a deliberate status (ours, or tonic's for a refused connection).
            if !matches!(status.code(), tonic::Code::Unknown | tonic::Code::Internal) {
                return Status::new(status.code(), status.message());
            }
        }
        source = current.source();
    }
    Status::unavailable(format!("the peer failed mid-call: {error}"))
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for PeerFailures<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    ResBody: HttpBody<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = http::Response<Body>;
    type Error = Status;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Status>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        self.inner
            .poll_ready(cx)
            .map_err(|error| transport_status(error.into()))
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let call = self.inner.call(request);
        Box::pin(async move {
            let response = call.await.map_err(|error| transport_status(error.into()))?;
            Ok(
                response
                    .map(|body| Body::new(body.map_err(|error| transport_status(error.into())))),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_errors_are_unavailable_but_deadlines_stay_deadlines() {
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        assert_eq!(
            transport_status(Box::new(reset)).code(),
            tonic::Code::Unavailable
        );
        let unknown = Status::unknown("transport error");
        assert_eq!(
            transport_status(Box::new(unknown)).code(),
            tonic::Code::Unavailable
        );
        assert_eq!(
            transport_status(Box::new(TimeoutExpired(()))).code(),
            tonic::Code::DeadlineExceeded
        );
    }
}
