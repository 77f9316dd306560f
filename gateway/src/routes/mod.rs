//! HTTP routes, one module per area. Each handler's `#[utoipa::path]` is both its route and its
//! OpenAPI entry: [`api_routes`] lists every handler once, in `routes!`, and [`api_doc`] reads the
//! same router the gateway serves. Most handlers are one RPC, written with the macros of [`shape`].

use std::{sync::Arc, time::Duration};

use axum::Router;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::clients::Peers;

#[macro_use]
mod shape;

mod admin_funnel;
mod billing;
mod call;
mod doc;
mod extract;
mod health;
mod identity;
mod invites;
mod json_time;
mod onboarding;
mod page;
mod prelude;
mod sales_leads;
mod status;
mod tenants;
mod webhooks;
mod words;

/// What every handler can reach: the downstream services and a few settings.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    /// Shared: axum clones the state for every request, and cloning the four clients (each a
    /// buffered channel) showed in the `gateway_hop` profile.
    pub(crate) peers: Arc<Peers>,
    pub(crate) readiness_timeout: Duration,
}

/// An area's routes, documented.
type Routes = OpenApiRouter<AppState>;

/// Routes that sit outside the request budget (probes answer on their own clock).
fn probe_routes() -> Routes {
    OpenApiRouter::new()
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
}

/// Every API route (the budget, body, CSRF and rate-limit layers wrap these), by area; the
/// handlers that share a path share a line.
fn api_routes() -> Routes {
    use self::{
        billing::account as bill,
        identity::{account, email, oauth, session},
        onboarding::{checklist, connect},
        tenants::members,
    };
    OpenApiRouter::new()
        .routes(routes!(status::describe_all))
        .routes(routes!(crate::openapi::serve))
        .routes(routes!(sales_leads::submit))
        // identity
        .routes(routes!(account::signup))
        .routes(routes!(session::login))
        .routes(routes!(session::refresh))
        .routes(routes!(session::logout))
        .routes(routes!(session::logout_everywhere))
        .routes(routes!(email::verify))
        .routes(routes!(email::resend))
        .routes(routes!(email::request_reset))
        .routes(routes!(email::complete_reset))
        .routes(routes!(oauth::start))
        .routes(routes!(oauth::callback))
        .routes(routes!(account::me, account::update_me))
        .routes(routes!(account::public_config))
        .routes(routes!(account::jwks))
        // tenancy
        .routes(routes!(tenants::list_mine, tenants::provision))
        .routes(routes!(tenants::get_tenant))
        .routes(routes!(tenants::status))
        .routes(routes!(tenants::starter_data))
        .routes(routes!(members::list))
        .routes(routes!(members::remove, members::change_role))
        .routes(routes!(invites::list, invites::create))
        .routes(routes!(invites::revoke))
        .routes(routes!(invites::lookup))
        .routes(routes!(invites::accept))
        // onboarding
        .routes(routes!(checklist::get))
        .routes(routes!(checklist::update))
        .routes(routes!(checklist::dismiss_rest))
        .routes(routes!(connect::start))
        .routes(routes!(connect::refresh))
        .routes(routes!(connect::back))
        .routes(routes!(connect::get_account, connect::create_account))
        .routes(routes!(connect::refresh_account))
        .routes(routes!(connect::create_token))
        // billing
        .routes(routes!(billing::public_plans))
        .routes(routes!(billing::get_catalog, billing::put_catalog))
        .routes(routes!(bill::checkout))
        .routes(routes!(bill::portal))
        .routes(routes!(bill::start))
        .routes(routes!(bill::subscription))
        .routes(routes!(bill::usage))
        .routes(routes!(webhooks::account))
        .routes(routes!(webhooks::connect))
        // operators
        .routes(routes!(admin_funnel::funnel))
}

pub(crate) fn probes(state: AppState) -> Router {
    Router::from(probe_routes()).with_state(state)
}

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
