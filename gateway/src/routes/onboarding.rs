//! `/v1/onboarding/...`: the setup checklist and the Connect onboarding routes.
//!
//! The Connect start, refresh and return routes are public on purpose: Stripe sends the browser to
//! them, possibly in another browser or after the session ended. The start and refresh links carry
//! the onboarding token (the credential); the return carries the single-use `state` minted with the
//! link. Account and token management needs a signed-in owner or admin.

mod checklist;
mod connect;
mod json;

use axum::{
    Router,
    routing::{get, post},
};

use crate::routes::AppState;

/// The onboarding routes' OpenAPI paths.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    checklist::get,
    checklist::update,
    checklist::dismiss_rest,
    connect::start,
    connect::refresh,
    connect::back,
    connect::get_account,
    connect::create_account,
    connect::refresh_account,
    connect::create_token
))]
pub(crate) struct Api;

/// The onboarding routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/onboarding", get(checklist::get))
        .route(
            "/v1/onboarding/steps/{id}",
            axum::routing::patch(checklist::update),
        )
        .route("/v1/onboarding/dismiss-rest", post(checklist::dismiss_rest))
        .route("/v1/onboarding/connect/start", get(connect::start))
        .route("/v1/onboarding/connect/refresh", get(connect::refresh))
        .route("/v1/onboarding/connect/return", get(connect::back))
        .route(
            "/v1/onboarding/connect/account",
            get(connect::get_account).post(connect::create_account),
        )
        .route(
            "/v1/onboarding/connect/account/refresh",
            post(connect::refresh_account),
        )
        .route("/v1/onboarding/connect/tokens", post(connect::create_token))
}
