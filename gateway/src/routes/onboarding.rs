//! `/v1/onboarding/...`: the setup checklist and the Connect onboarding routes.
//!
//! The Connect start, refresh and return routes are public on purpose: Stripe sends the browser to
//! them, possibly in another browser or after the session ended. The start and refresh links carry
//! the onboarding token (the credential); the return carries the single-use `state` minted with the
//! link. Account and token management needs a signed-in owner or admin.

mod checklist;
mod connect;
mod json;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::routes::Routes;

/// The onboarding routes.
pub(crate) fn routes() -> Routes {
    OpenApiRouter::new()
        .routes(routes!(checklist::get))
        .routes(routes!(checklist::update))
        .routes(routes!(checklist::dismiss_rest))
        .routes(routes!(connect::start))
        .routes(routes!(connect::refresh))
        .routes(routes!(connect::back))
        .routes(routes!(connect::get_account, connect::create_account))
        .routes(routes!(connect::refresh_account))
        .routes(routes!(connect::create_token))
}
