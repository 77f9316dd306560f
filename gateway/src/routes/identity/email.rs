//! Email verification and password reset.

use axum::http::StatusCode;
use onramp_proto::identity::v1::{
    CompletePasswordResetRequest, RequestPasswordResetRequest, ResendVerificationRequest,
    VerifyEmailRequest,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::account::Accepted;
use crate::{
    auth::AuthUserAllowUnverified,
    problem::Problem,
    routes::{
        call::{Caller, rpc},
        extract::Json,
        json_time::rfc3339,
    },
};

/// `POST /v1/auth/verify-email` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct TokenBody {
    token: String,
}

/// `POST /v1/auth/verify-email` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Verified {
    user_id: String,
    already_verified: bool,
}

#[utoipa::path(post, path = "/v1/auth/verify-email", tag = "auth", operation_id = "verify_email",
    request_body = TokenBody,
    responses(
        (status = 200, description = "The address is verified", body = Verified),
        (status = 401, description = "The link is invalid or expired"),
    ))]
pub(crate) async fn verify(
    c: Caller,
    Json(body): Json<TokenBody>,
) -> Result<Json<Verified>, Problem> {
    let request = VerifyEmailRequest {
        caller: c.meta(),
        token: body.token,
    };
    rpc(c.identity().verify_email(request), |verified| Verified {
        user_id: verified.user_id,
        already_verified: verified.already_verified,
    })
    .await
}

/// `POST /v1/auth/resend-verification` answer (times are RFC 3339 UTC).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Resent {
    already_verified: bool,
    #[schema(format = DateTime)]
    next_resend_allowed_at: Option<String>,
}

/// Allowed behind the verification wall, of course.
#[utoipa::path(post, path = "/v1/auth/resend-verification", tag = "auth",
    operation_id = "resend_verification", security(("bearer" = [])),
    responses(
        (status = 200, description = "A new verification email is on its way", body = Resent),
        (status = 429, description = "Resent too recently"),
    ))]
pub(crate) async fn resend(c: Caller<AuthUserAllowUnverified>) -> Result<Json<Resent>, Problem> {
    let request = ResendVerificationRequest { caller: c.meta() };
    rpc(c.identity().resend_verification(request), |resent| Resent {
        already_verified: resent.already_verified,
        next_resend_allowed_at: rfc3339(resent.next_resend_allowed_at),
    })
    .await
}

/// `POST /v1/auth/password-reset` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ResetRequestBody {
    #[schema(format = "email")]
    email: String,
}

/// The same answer whether the account exists or not.
#[utoipa::path(post, path = "/v1/auth/password-reset", tag = "auth",
    operation_id = "request_password_reset", request_body = ResetRequestBody,
    responses(
        (status = 202, description = "A reset link is sent if the account exists", body = Accepted),
        (status = 429, description = "Too many reset requests"),
    ))]
pub(crate) async fn request_reset(
    c: Caller,
    Json(body): Json<ResetRequestBody>,
) -> Result<(StatusCode, Json<Accepted>), Problem> {
    let request = RequestPasswordResetRequest {
        caller: c.meta(),
        email: body.email,
    };
    let sent = |_| Accepted::new("if an account uses this address, a reset link is on its way");
    let mut identity = c.identity();
    let call = identity.request_password_reset(request);
    Ok((StatusCode::ACCEPTED, rpc(call, sent).await?))
}

/// `POST /v1/auth/password-reset/complete` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct CompleteResetBody {
    token: String,
    new_password: String,
    /// Provider ids to unlink as part of the reset (the reset mail lists the linked ones); each must
    /// be linked to the account, else 400 naming `unlink_oauth_providers`.
    unlink_oauth_providers: Vec<String>,
}

/// `POST /v1/auth/password-reset/complete` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ResetDone {
    sessions_revoked: u32,
    /// Provider ids still linked to the account.
    linked_oauth_providers: Vec<String>,
    /// Provider ids this reset unlinked.
    unlinked_oauth_providers: Vec<String>,
}

#[utoipa::path(post, path = "/v1/auth/password-reset/complete", tag = "auth",
    operation_id = "complete_password_reset", request_body = CompleteResetBody,
    responses(
        (status = 200, description = "The password is changed; every session is revoked", body = ResetDone),
        (status = 401, description = "The link is invalid or expired"),
    ))]
pub(crate) async fn complete_reset(
    c: Caller,
    Json(body): Json<CompleteResetBody>,
) -> Result<Json<ResetDone>, Problem> {
    let request = CompletePasswordResetRequest {
        caller: c.meta(),
        token: body.token,
        new_password: body.new_password,
        unlink_oauth_providers: body.unlink_oauth_providers,
    };
    rpc(c.identity().complete_password_reset(request), |done| {
        ResetDone {
            sessions_revoked: done.sessions_revoked,
            linked_oauth_providers: done.linked_oauth_providers,
            unlinked_oauth_providers: done.unlinked_oauth_providers,
        }
    })
    .await
}
