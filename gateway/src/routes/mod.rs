//! HTTP routes, one module per area.

use std::time::Duration;

use axum::{Router, routing::get};

use onramp_kit::retry::RetryPolicy;

use crate::clients::Peers;

mod billing;
mod extract;
mod health;
mod identity;
mod invites;
mod json_time;
mod onboarding;
mod page;
mod sales_leads;
mod status;
mod tenants;
mod webhooks;

/// What every handler can reach: the downstream services and a few settings.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) peers: Peers,
    pub(crate) readiness_timeout: Duration,
    /// One retry budget shared by every idempotent call the gateway makes.
    pub(crate) retry: RetryPolicy,
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
        .route("/openapi.json", get(crate::openapi::serve))
        .merge(identity::routes())
        .merge(tenants::routes())
        .merge(invites::routes())
        .route("/v1/sales-leads", axum::routing::post(sales_leads::submit))
        .merge(onboarding::routes())
        .merge(webhooks::routes())
        .merge(billing::routes())
        // Unknown API paths answer problem+json 404; every other path is the web app.
        .fallback(crate::web::fallback)
        .with_state(state)
}

/// The routes' OpenAPI paths, one `utoipa::OpenApi` per area (see `crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    health::live,
    health::ready,
    status::describe_all,
    sales_leads::submit,
    crate::openapi::serve
))]
struct CoreApi;

/// Every documented route.
pub(crate) fn api_doc() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    let mut doc = CoreApi::openapi();
    for area in [
        identity::Api::openapi(),
        tenants::Api::openapi(),
        invites::Api::openapi(),
        billing::Api::openapi(),
        onboarding::Api::openapi(),
        webhooks::Api::openapi(),
    ] {
        doc.merge(area);
    }
    doc
}
