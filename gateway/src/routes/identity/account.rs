//! Signup, the caller's account, the public config and the JWKS.

use axum::{Json, extract::State, http::StatusCode};
use http::HeaderMap;
use onramp_proto::identity::v1::{
    GetCurrentUserRequest, GetJwksRequest, GetPublicConfigRequest, SignupRequest,
    UpdateCurrentUserRequest, User,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::body::Body;
use crate::{
    auth::{AuthUser, AuthUserAllowUnverified, caller},
    problem::Problem,
    routes::AppState,
};

/// `POST /v1/auth/signup` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SignupBody {
    email: String,
    password: String,
    display_name: String,
    invite_code: String,
}

/// Always the same answer, whether the email was new or not (enumeration resistance).
pub(crate) async fn signup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(body): Body<SignupBody>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let request = SignupRequest {
        caller: Some(caller(None, &headers)),
        email: body.email,
        password: body.password,
        display_name: body.display_name,
        invite_code: body.invite_code,
    };
    state.peers.identity().signup(request).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "status": "check your email to verify your address, then log in" })),
    ))
}

/// `GET /v1/users/me`.
#[derive(Debug, Serialize)]
pub(crate) struct MeJson {
    id: String,
    email: String,
    display_name: String,
    email_verified: bool,
    email_verified_at: Option<i64>,
    verification_grace_ends_at: Option<i64>,
    email_verification_required: bool,
    has_password: bool,
    linked_oauth_providers: Vec<String>,
    created_at: Option<i64>,
}

pub(crate) async fn me(
    State(state): State<AppState>,
    AuthUserAllowUnverified(user): AuthUserAllowUnverified,
    headers: HeaderMap,
) -> Result<Json<MeJson>, Problem> {
    let request = GetCurrentUserRequest {
        caller: Some(caller(Some(&user), &headers)),
    };
    let response = state
        .peers
        .identity()
        .get_current_user(request)
        .await?
        .into_inner();
    Ok(me_json(response.user.unwrap_or_default()))
}

/// `PATCH /v1/users/me` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct UpdateMeBody {
    display_name: String,
}

/// Behind the verification wall: [`AuthUser`], not the allow-list extractor.
pub(crate) async fn update_me(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Body(body): Body<UpdateMeBody>,
) -> Result<Json<MeJson>, Problem> {
    let request = UpdateCurrentUserRequest {
        caller: Some(caller(Some(&user), &headers)),
        display_name: body.display_name,
    };
    let response = state
        .peers
        .identity()
        .update_current_user(request)
        .await?
        .into_inner();
    Ok(me_json(response.user.unwrap_or_default()))
}

fn me_json(user: User) -> Json<MeJson> {
    let seconds = |t: Option<prost_types::Timestamp>| t.map(|t| t.seconds);
    Json(MeJson {
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        email_verified: user.email_verified,
        email_verified_at: seconds(user.email_verified_at),
        verification_grace_ends_at: seconds(user.verification_grace_ends_at),
        email_verification_required: user.email_verification_required,
        has_password: user.has_password,
        linked_oauth_providers: user.linked_oauth_providers,
        created_at: seconds(user.created_at),
    })
}

/// `GET /v1/config/public`.
pub(crate) async fn public_config(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    let request = GetPublicConfigRequest {
        caller: Some(caller(None, &headers)),
    };
    let config = state
        .peers
        .identity()
        .get_public_config(request)
        .await?
        .into_inner();
    let providers = config
        .oauth_providers
        .iter()
        .map(|p| json!({ "id": p.id, "display_name": p.display_name, "kind": p.kind().as_str_name() }))
        .collect::<Vec<_>>();
    Ok(Json(json!({
        "self_serve_enabled": config.self_serve_enabled,
        "oauth_providers": providers,
        "password_min_length": config.password_min_length,
        "email_verification_grace_days": config.email_verification_grace_days,
    })))
}

/// `GET /.well-known/jwks.json`: identity's public keys, for anyone verifying tokens.
pub(crate) async fn jwks(State(state): State<AppState>) -> Result<Json<Value>, Problem> {
    let jwks = state
        .peers
        .identity()
        .get_jwks(GetJwksRequest {})
        .await?
        .into_inner();
    let keys = jwks
        .keys
        .iter()
        .map(|k| json!({ "kty": k.kty, "kid": k.kid, "alg": k.alg, "use": k.public_key_use, "crv": k.crv, "x": k.x }))
        .collect::<Vec<_>>();
    Ok(Json(json!({ "keys": keys })))
}
