//! HTTP routes, one module per area. Each handler's `#[utoipa::path]` is both its route and its
//! OpenAPI entry: areas list their handlers once, in `routes!`, and [`api_doc`] reads the same
//! router the gateway serves.

use std::time::Duration;

use axum::Router;
use onramp_kit::retry::RetryPolicy;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::clients::Peers;

mod admin_funnel;
mod billing;
mod call;
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
mod words;

/// What every handler can reach: the downstream services and a few settings.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) peers: Peers,
    pub(crate) readiness_timeout: Duration,
    /// One retry budget shared by every idempotent call the gateway makes.
    pub(crate) retry: RetryPolicy,
}

/// An area's routes, documented.
type Routes = OpenApiRouter<AppState>;

/// Routes that sit outside the request budget (probes answer on their own clock).
fn probe_routes() -> Routes {
    OpenApiRouter::new()
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
}

/// Every API route (the budget, body, CSRF and rate-limit layers wrap these).
fn api_routes() -> Routes {
    // The webhook routes are declared the classic way (`Router` plus a `utoipa::OpenApi`).
    let webhooks = OpenApiRouter::with_openapi(<webhooks::Api as utoipa::OpenApi>::openapi())
        .merge(webhooks::routes().into());
    OpenApiRouter::new()
        .routes(routes!(status::describe_all))
        .routes(routes!(crate::openapi::serve))
        .routes(routes!(sales_leads::submit))
        .merge(identity::routes())
        .merge(tenants::routes())
        .merge(invites::routes())
        .merge(onboarding::routes())
        .merge(billing::routes())
        .routes(routes!(admin_funnel::funnel))
        .merge(webhooks)
}

/// The probes.
pub(crate) fn probes(state: AppState) -> Router {
    Router::from(probe_routes()).with_state(state)
}

/// The API routes.
pub(crate) fn api(state: AppState) -> Router {
    Router::from(api_routes())
        // Unknown API paths answer problem+json 404; every other path is the web app.
        .fallback(crate::web::fallback)
        .with_state(state)
}

/// Every documented route: the probes' and the API's.
pub(crate) fn api_doc() -> utoipa::openapi::OpenApi {
    probe_routes().merge(api_routes()).into_openapi()
}
