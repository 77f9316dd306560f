//! What the edge does to every request and response, as two plain tower layers instead of five
//! `axum::middleware::from_fn` layers: each of those clones the whole stack inside it and boxes
//! three times per request, and the gateway's own CPU per proxied request is what the `gateway_hop`
//! bench holds to 100 µs. The order is the one the layers had:
//!
//! - [`OuterLayer`] (outermost, so it sees the status the client gets): the request duration metric
//!   (by route template) and `Cache-Control: no-store` on credentialed responses;
//! - then CORS and the request id (tower-http layers, see `startup`);
//! - [`InnerLayer`]: the request span ([`trace`]), inside it the problem+json fallback
//!   ([`problem_fallback`]), and the client IP ([`client_ip`]) derived before anything inside
//!   reads it.

use std::{
    convert::Infallible,
    task::{Context, Poll},
};

use axum::{
    body::{Body, Bytes, HttpBody},
    extract::Request,
    response::Response,
};
use futures::future::BoxFuture;
use http::HeaderName;
use onramp_kit::metrics::http::RequestTimer;
use tower::{Layer, Service};
use tracing::Instrument as _;

use crate::{
    auth::CookiePolicy,
    middleware::{client_ip, problem_fallback, security_headers, trace},
};

/// The request duration metric and `no-store` on credentialed responses.
#[derive(Debug, Clone)]
pub(crate) struct OuterLayer {
    pub(crate) cookies: CookiePolicy,
}

impl<S> Layer<S> for OuterLayer {
    type Service = Outer<S>;

    fn layer(&self, inner: S) -> Outer<S> {
        Outer {
            inner,
            cookies: self.cookies.clone(),
        }
    }
}

/// [`OuterLayer`]'s service.
#[derive(Debug, Clone)]
pub(crate) struct Outer<S> {
    inner: S,
    cookies: CookiePolicy,
}

impl<S> Service<Request> for Outer<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let timer = RequestTimer::start(&request);
        let credentialed = security_headers::credentialed(&self.cookies, request.headers());
        let response = self.inner.call(request);
        Box::pin(async move {
            let mut response = response.await?;
            security_headers::no_store(credentialed, &mut response);
            timer.finish(response.status());
            Ok(response)
        })
    }
}

/// The request span, the problem+json fallback inside it, and the client IP.
#[derive(Debug, Clone)]
pub(crate) struct InnerLayer {
    /// `TRUSTED_PROXY_HEADER`, the only source of the client IP.
    pub(crate) trusted_proxy_header: Option<HeaderName>,
}

impl<S> Layer<S> for InnerLayer {
    type Service = Inner<S>;

    fn layer(&self, inner: S) -> Inner<S> {
        Inner {
            inner,
            trusted_proxy_header: self.trusted_proxy_header.clone(),
        }
    }
}

/// [`InnerLayer`]'s service.
#[derive(Debug, Clone)]
pub(crate) struct Inner<S> {
    inner: S,
    trusted_proxy_header: Option<HeaderName>,
}

impl<S, B> Service<Request> for Inner<S>
where
    S: Service<Request, Response = http::Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
    // What is inside may wrap the body (the request body limit does).
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let span = trace::request_span(&request);
        client_ip::derive(self.trusted_proxy_header.as_ref(), request.headers_mut());
        let response = span.in_scope(|| self.inner.call(request));
        Box::pin(async move {
            let handled = async move {
                let response = response.await?.map(Body::new);
                Ok::<_, Infallible>(problem_fallback::rewrite(response).await)
            };
            let mut response = handled.instrument(span.clone()).await?;
            trace::stamp(&span, &mut response);
            Ok(response)
        })
    }
}
