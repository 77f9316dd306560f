//! What many routes document alike, written once: the workspace in the path or the query, and the
//! answers of the routes that act on a workspace. Documentation only: nothing constructs these.
#![allow(dead_code, reason = "types that exist for their OpenAPI derive only")]

use utoipa::{IntoParams, IntoResponses};

/// `{tenant_id}` in a route's path.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct TenantPath {
    /// The tenant's id
    tenant_id: String,
}

/// `?tenant_id=` on a route that names its workspace in the query.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TenantParam {
    /// The tenant's id
    tenant_id: String,
}

/// No such workspace, or the caller is not a member
#[derive(Debug, IntoResponses)]
#[response(status = 404)]
pub(crate) struct NotAMember;

/// The workspace waits for its payment; retry after `Retry-After`
#[derive(Debug, IntoResponses)]
#[response(status = 402)]
pub(crate) struct PaymentPending;

/// The link is invalid or expired
#[derive(Debug, IntoResponses)]
#[response(status = 401)]
pub(crate) struct LinkRefused;

/// Unknown provider
#[derive(Debug, IntoResponses)]
#[response(status = 404)]
pub(crate) struct UnknownProvider;

/// `X-Onramp-Session` on the routes that answer with a session.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub(crate) struct SessionMode {
    /// `cookie`: answer without the tokens in the body (browsers; the session is in the HttpOnly cookies)
    #[param(rename = "X-Onramp-Session")]
    session: Option<String>,
}

/// Stripe failed
#[derive(Debug, IntoResponses)]
#[response(status = 502)]
pub(crate) struct StripeFailed;

/// No such workspace or account
#[derive(Debug, IntoResponses)]
#[response(status = 404)]
pub(crate) struct NoAccount;

/// `?token=` on the routes that take a browser to Stripe's onboarding.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct OnboardingTokenParam {
    /// The onboarding token (the credential)
    token: String,
}

/// Why an onboarding token does not lead to Stripe.
#[derive(Debug, IntoResponses)]
pub(crate) enum TokenRefused {
    /// Unknown or expired token
    #[response(status = 404)]
    Unknown,
    /// The token is already complete
    #[response(status = 409)]
    Complete,
    /// Stripe failed; the token stays startable
    #[response(status = 502)]
    StripeFailed,
}
