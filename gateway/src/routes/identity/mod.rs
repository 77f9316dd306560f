//! Identity's HTTP routes: `/v1/auth/*`, `/v1/users/me`, `/v1/config/public`, and the JWKS.

pub(super) mod account;
pub(super) mod email;
pub(super) mod oauth;
pub(super) mod session;
