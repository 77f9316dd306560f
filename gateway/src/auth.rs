//! Who is calling. Routes that need a signed-in user take an [`AuthUser`]; every RPC gets a
//! [`Caller`] built here, so services never trust a user id from anywhere else.
//!
//! Until access tokens are verified against identity's JWKS (the identity issue), no request is
//! authenticated: [`AuthUser`] rejects every request with `401 UNAUTHENTICATED`.

use axum::extract::FromRequestParts;
use http::{HeaderMap, request::Parts};
use onramp_kit::Code;
use onramp_proto::common::v1::Caller;

use crate::problem::Problem;

/// A user whose access token the gateway verified.
#[derive(Debug, Clone)]
pub(crate) struct AuthUser {
    /// The user's id (UUID) from the token's `sub`.
    pub(crate) user_id: String,
}

impl<S: Send + Sync> FromRequestParts<S> for AuthUser {
    type Rejection = Problem;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Err(Problem::new(Code::Unauthenticated, "sign-in required"))
    }
}

/// The `Caller` for an RPC: the verified user (if any) and what the edge knows about the request.
pub(crate) fn caller(user: Option<&AuthUser>, headers: &HeaderMap) -> Caller {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    Caller {
        user_id: user.map(|user| user.user_id.clone()).unwrap_or_default(),
        // Set by `middleware::client_ip` from the trusted proxy header only (stripped from clients).
        client_ip: header(crate::middleware::client_ip::CLIENT_IP_HEADER.as_str()),
        user_agent: header("user-agent"),
        request_id: header("x-request-id"),
    }
}
