//! HTTP routes, one module per area.

use std::time::Duration;

use axum::{Router, routing::get};

use onramp_kit::Code;

use crate::{clients::Peers, problem::Problem};

mod billing;
mod health;
mod status;
mod webhooks;

/// What every handler can reach: the downstream services and a few settings.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) peers: Peers,
    pub(crate) readiness_timeout: Duration,
}

/// Routes that sit outside the request budget (probes answer on their own clock).
pub(crate) fn probes(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .with_state(state)
}

/// The API routes.
pub(crate) fn api(state: AppState) -> Router {
    Router::new()
        .route("/v1/status", get(status::describe_all))
        .merge(webhooks::routes())
        .merge(billing::routes())
        .fallback(not_found)
        .with_state(state)
}

/// Unknown paths answer problem+json like every other error.
async fn not_found() -> Problem {
    Problem::new(Code::NotFound, "no such route")
}
