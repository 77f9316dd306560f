//! Identity's HTTP routes: `/v1/auth/*`, `/v1/users/me`, `/v1/config/public`, and the JWKS.

mod account;
pub(crate) mod body;
mod email;
mod oauth;
mod session;

use axum::{
    Router,
    routing::{get, post},
};

use crate::routes::AppState;

/// The identity routes' OpenAPI paths.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    account::signup,
    session::login,
    session::refresh,
    session::logout,
    session::logout_everywhere,
    email::verify,
    email::resend,
    email::request_reset,
    email::complete_reset,
    oauth::start,
    oauth::callback,
    account::me,
    account::update_me,
    account::public_config,
    account::jwks
))]
pub(crate) struct Api;

/// Every identity route.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/auth/signup", post(account::signup))
        .route("/v1/auth/login", post(session::login))
        .route("/v1/auth/refresh", post(session::refresh))
        .route("/v1/auth/logout", post(session::logout))
        .route(
            "/v1/auth/logout-everywhere",
            post(session::logout_everywhere),
        )
        .route("/v1/auth/verify-email", post(email::verify))
        .route("/v1/auth/resend-verification", post(email::resend))
        .route("/v1/auth/password-reset", post(email::request_reset))
        .route(
            "/v1/auth/password-reset/complete",
            post(email::complete_reset),
        )
        .route("/v1/auth/oauth/{provider}/start", get(oauth::start))
        .route("/v1/auth/oauth/{provider}/callback", post(oauth::callback))
        .route("/v1/users/me", get(account::me).patch(account::update_me))
        .route("/v1/config/public", get(account::public_config))
        .route("/.well-known/jwks.json", get(account::jwks))
}
