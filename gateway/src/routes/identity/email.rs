//! Email verification and password reset.

use axum::{Json, extract::State, http::StatusCode};
use http::HeaderMap;
use onramp_proto::identity::v1::{
    CompletePasswordResetRequest, RequestPasswordResetRequest, ResendVerificationRequest,
    VerifyEmailRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::body::Body;
use crate::{
    auth::{AuthUserAllowUnverified, caller},
    problem::Problem,
    routes::AppState,
};

/// `POST /v1/auth/verify-email` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TokenBody {
    token: String,
}

pub(crate) async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(body): Body<TokenBody>,
) -> Result<Json<Value>, Problem> {
    let request = VerifyEmailRequest {
        caller: Some(caller(None, &headers)),
        token: body.token,
    };
    let verified = state
        .peers
        .identity()
        .verify_email(request)
        .await?
        .into_inner();
    Ok(Json(json!({
        "user_id": verified.user_id,
        "already_verified": verified.already_verified,
    })))
}

/// Allowed behind the verification wall, of course.
pub(crate) async fn resend(
    State(state): State<AppState>,
    AuthUserAllowUnverified(user): AuthUserAllowUnverified,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    let request = ResendVerificationRequest {
        caller: Some(caller(Some(&user), &headers)),
    };
    let resent = state
        .peers
        .identity()
        .resend_verification(request)
        .await?
        .into_inner();
    Ok(Json(json!({
        "already_verified": resent.already_verified,
        "next_resend_allowed_at": resent.next_resend_allowed_at.map(|t| t.seconds),
    })))
}

/// `POST /v1/auth/password-reset` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ResetRequestBody {
    email: String,
}

/// The same answer whether the account exists or not.
pub(crate) async fn request_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(body): Body<ResetRequestBody>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let request = RequestPasswordResetRequest {
        caller: Some(caller(None, &headers)),
        email: body.email,
    };
    state
        .peers
        .identity()
        .request_password_reset(request)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "status": "if an account uses this address, a reset link is on its way" })),
    ))
}

/// `POST /v1/auth/password-reset/complete` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CompleteResetBody {
    token: String,
    new_password: String,
}

pub(crate) async fn complete_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(body): Body<CompleteResetBody>,
) -> Result<Json<Value>, Problem> {
    let request = CompletePasswordResetRequest {
        caller: Some(caller(None, &headers)),
        token: body.token,
        new_password: body.new_password,
    };
    let done = state
        .peers
        .identity()
        .complete_password_reset(request)
        .await?
        .into_inner();
    Ok(Json(json!({ "sessions_revoked": done.sessions_revoked })))
}
