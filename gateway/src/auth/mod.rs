//! Who is calling. Routes that need a signed-in user take an [`AuthUser`] (which also enforces the
//! email-verification wall) or, on the wall's allow-list (verify, resend, logout, me), an
//! [`AuthUserAllowUnverified`]. Every RPC gets a [`Caller`] built here, so services never trust a
//! user id from anywhere else.
//!
//! The access token comes from `Authorization: Bearer` or, when that header is absent, from the
//! browser's access cookie ([`CookiePolicy`]); cookie-authenticated mutations are CSRF-checked by
//! `middleware::csrf` before they get here.
//!
//! Access tokens are verified locally against identity's JWKS ([`Verifier`]), never by calling
//! identity per request.

pub(crate) mod cookies;
mod keys;
mod refresh;
mod verified;
mod verifier;

use axum::extract::FromRequestParts;
use http::{HeaderMap, header, request::Parts};
use onramp_kit::{Code, auth::AccessClaims};
use onramp_proto::common::v1::Caller;

use crate::{middleware::header_str, problem::Problem};

pub(crate) use cookies::CookiePolicy;
pub(crate) use verifier::{Verifier, VerifyError};

/// A user whose access token the gateway verified and who is not behind the verification wall.
#[derive(Debug, Clone)]
pub(crate) struct AuthUser {
    /// The user's id (UUID) from the token's `sub`.
    pub(crate) user_id: String,
}

/// A verified user, even past the verification grace period: for the wall's allow-list only.
#[derive(Debug, Clone)]
pub(crate) struct AuthUserAllowUnverified(pub(crate) AuthUser);

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The access token: the `Authorization` header's if there is one (even a malformed one, so a bad
/// header never silently falls back to a cookie), else the access cookie's.
fn access_token(parts: &Parts) -> Option<&str> {
    if parts.headers.contains_key(header::AUTHORIZATION) {
        return bearer(&parts.headers);
    }
    let policy = parts.extensions.get::<CookiePolicy>()?;
    cookies::cookie(&parts.headers, policy.access)
}

/// Verifies the access token; the claims, or the problem to answer.
async fn claims(parts: &Parts) -> Result<AccessClaims, Problem> {
    let token = access_token(parts)
        .ok_or_else(|| Problem::new(Code::Unauthenticated, "sign-in required"))?;
    let verifier = parts.extensions.get::<Verifier>().ok_or_else(|| {
        tracing::error!("no access-token verifier installed");
        Problem::internal()
    })?;
    verifier.verify(token).await.map_err(|error| match error {
        VerifyError::Rejected(why) => {
            tracing::debug!(%why, "access token rejected");
            Problem::new(Code::Unauthenticated, "invalid or expired access token")
        }
        VerifyError::Jwks(status) => Problem::from(status),
        VerifyError::BackingOff(wait) => Problem(
            onramp_kit::ApiError::new(Code::Unavailable, "sign-in is temporarily unavailable")
                .with_retry_after(wait),
        ),
    })
}

fn user(claims: &AccessClaims) -> AuthUser {
    AuthUser {
        user_id: claims.sub.clone(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthUser {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let claims = claims(parts).await?;
        let now = parts
            .extensions
            .get::<Verifier>()
            .map(Verifier::now)
            .unwrap_or_default();
        if claims.verification_required(now) {
            return Err(Problem::new(
                Code::EmailVerificationRequired,
                "verify your email address to continue",
            ));
        }
        Ok(user(&claims))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthUserAllowUnverified {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(user(&claims(parts).await?)))
    }
}

/// The `Caller` for an RPC: the verified user (if any) and what the edge knows about the request.
pub(crate) fn caller(user: Option<&AuthUser>, headers: &HeaderMap) -> Caller {
    let header = |name: &str| header_str(headers, name).unwrap_or_default().to_owned();
    Caller {
        user_id: user.map(|user| user.user_id.clone()).unwrap_or_default(),
        // Set by `middleware::client_ip` from the trusted proxy header only (stripped from clients).
        client_ip: header(crate::middleware::client_ip::CLIENT_IP_HEADER.as_str()),
        user_agent: header("user-agent"),
        request_id: header("x-request-id"),
    }
}
