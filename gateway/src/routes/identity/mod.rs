//! Identity's HTTP routes: `/v1/auth/*`, `/v1/users/me`, `/v1/config/public`, and the JWKS.

mod account;
mod email;
mod oauth;
mod session;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::routes::Routes;

/// Every identity route.
pub(crate) fn routes() -> Routes {
    OpenApiRouter::new()
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
}
