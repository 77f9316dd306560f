//! Every request gets a time budget; every RPC it makes gets what is left of it as its deadline.

use std::time::Duration;

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use onramp_kit::{Code, Deadline};

use crate::problem::Problem;

/// Runs the request inside a [`Deadline`] of `budget`; past it, answers `504` problem+json.
pub(crate) async fn enforce(
    State(budget): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let deadline = Deadline::after(budget);
    match tokio::time::timeout_at(deadline.instant(), deadline.scope(next.run(request))).await {
        Ok(response) => response,
        Err(_) => Problem::new(
            Code::DeadlineExceeded,
            "the request did not finish within its time budget",
        )
        .into_response(),
    }
}
