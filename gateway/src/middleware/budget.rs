//! Every request gets a time budget; every RPC it makes gets what is left of it as its deadline.
//!
//! A plain tower layer rather than `axum::middleware::from_fn`, which clones the whole inner stack and
//! boxes three times on every request (see [`super::edge`]).

use std::{
    convert::Infallible,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    extract::Request,
    response::{IntoResponse, Response},
};
use futures::future::BoxFuture;
use onramp_kit::{Code, Deadline};
use tower::{Layer, Service};

use crate::problem::Problem;

/// Runs each request inside a [`Deadline`] of its budget; past it, answers `504` problem+json.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BudgetLayer(pub(crate) Duration);

impl<S> Layer<S> for BudgetLayer {
    type Service = Budget<S>;

    fn layer(&self, inner: S) -> Budget<S> {
        Budget {
            inner,
            budget: self.0,
        }
    }
}

/// [`BudgetLayer`]'s service.
#[derive(Debug, Clone)]
pub(crate) struct Budget<S> {
    inner: S,
    budget: Duration,
}

impl<S> Service<Request> for Budget<S>
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
        let deadline = Deadline::after(self.budget);
        // Handlers run when the future is polled, inside the deadline's scope.
        let response = self.inner.call(request);
        Box::pin(async move {
            let bounded = deadline.scope(response);
            match tokio::time::timeout_at(deadline.instant(), bounded).await {
                Ok(response) => response,
                Err(_) => Ok(Problem::new(
                    Code::DeadlineExceeded,
                    "the request did not finish within its time budget",
                )
                .into_response()),
            }
        })
    }
}
