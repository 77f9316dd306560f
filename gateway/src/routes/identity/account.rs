//! Signup, the caller's account, the public config and the JWKS.

use axum::http::StatusCode;
use onramp_proto::identity::v1::{
    GetCurrentUserRequest, GetJwksRequest, GetPublicConfigRequest, SignupRequest,
    UpdateCurrentUserRequest, User,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    auth::{AuthUser, AuthUserAllowUnverified},
    problem::Problem,
    routes::{
        call::{Caller, rpc},
        extract::Json,
        json_time::rfc3339,
        words::word,
    },
};

/// `POST /v1/auth/signup` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SignupBody {
    #[schema(format = "email")]
    email: String,
    password: String,
    display_name: String,
    invite_code: String,
}

/// A request taken in; what happens next (an email) is said in `status`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Accepted {
    status: &'static str,
}

impl Accepted {
    pub(crate) fn new(status: &'static str) -> Self {
        Self { status }
    }
}

/// Always the same answer, whether the email was new or not (enumeration resistance).
#[utoipa::path(post, path = "/v1/auth/signup", tag = "auth", operation_id = "signup",
    request_body = SignupBody,
    responses(
        (status = 202, description = "A verification email is on its way (same answer for a known email)", body = Accepted),
        (status = 403, description = "Self-serve signup is off and no valid invite was given"),
        (status = 429, description = "Too many signups"),
    ))]
pub(crate) async fn signup(
    c: Caller,
    Json(body): Json<SignupBody>,
) -> Result<(StatusCode, Json<Accepted>), Problem> {
    let request = SignupRequest {
        caller: c.meta(),
        email: body.email,
        password: body.password,
        display_name: body.display_name,
        invite_code: body.invite_code,
    };
    let accepted = |_| Accepted::new("check your email to verify your address, then log in");
    Ok((
        StatusCode::ACCEPTED,
        rpc(c.identity().signup(request), accepted).await?,
    ))
}

/// `GET /v1/users/me`. Times are RFC 3339 UTC.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub(crate) struct MeJson {
    id: String,
    email: String,
    display_name: String,
    email_verified: bool,
    #[schema(format = DateTime)]
    email_verified_at: Option<String>,
    #[schema(format = DateTime)]
    verification_grace_ends_at: Option<String>,
    email_verification_required: bool,
    has_password: bool,
    linked_oauth_providers: Vec<String>,
    #[schema(format = DateTime)]
    created_at: Option<String>,
}

#[utoipa::path(get, path = "/v1/users/me", tag = "users", operation_id = "get_me",
    security(("bearer" = [])),
    responses((status = 200, description = "The signed-in user (allowed behind the verification wall)", body = MeJson)))]
pub(crate) async fn me(c: Caller<AuthUserAllowUnverified>) -> Result<Json<MeJson>, Problem> {
    let request = GetCurrentUserRequest { caller: c.meta() };
    rpc(c.identity().get_current_user(request), |a| me_json(a.user)).await
}

/// `PATCH /v1/users/me` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct UpdateMeBody {
    display_name: String,
}

/// Behind the verification wall: [`AuthUser`], not the allow-list extractor.
#[utoipa::path(patch, path = "/v1/users/me", tag = "users", operation_id = "update_me",
    security(("bearer" = [])), request_body = UpdateMeBody,
    responses((status = 200, description = "The updated user", body = MeJson)))]
pub(crate) async fn update_me(
    c: Caller<AuthUser>,
    Json(body): Json<UpdateMeBody>,
) -> Result<Json<MeJson>, Problem> {
    let request = UpdateCurrentUserRequest {
        caller: c.meta(),
        display_name: body.display_name,
    };
    rpc(c.identity().update_current_user(request), |a| {
        me_json(a.user)
    })
    .await
}

fn me_json(user: Option<User>) -> MeJson {
    let user = user.unwrap_or_default();
    MeJson {
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        email_verified: user.email_verified,
        email_verified_at: rfc3339(user.email_verified_at),
        verification_grace_ends_at: rfc3339(user.verification_grace_ends_at),
        email_verification_required: user.email_verification_required,
        has_password: user.has_password,
        linked_oauth_providers: user.linked_oauth_providers,
        created_at: rfc3339(user.created_at),
    }
}

/// An OAuth/OIDC provider a user can sign in with.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OauthProviderJson {
    id: String,
    display_name: String,
    /// `google`, `microsoft` or `oidc`.
    kind: String,
}

/// `GET /v1/config/public` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PublicConfig {
    self_serve_enabled: bool,
    oauth_providers: Vec<OauthProviderJson>,
    password_min_length: u32,
    email_verification_grace_days: u32,
}

/// `GET /v1/config/public`.
#[utoipa::path(get, path = "/v1/config/public", tag = "auth", operation_id = "get_public_config",
    responses((status = 200, description = "What a sign-up page needs to know", body = PublicConfig)))]
pub(crate) async fn public_config(c: Caller) -> Result<Json<PublicConfig>, Problem> {
    let request = GetPublicConfigRequest { caller: c.meta() };
    rpc(c.identity().get_public_config(request), |config| {
        let oauth_providers = (config.oauth_providers.into_iter())
            .map(|p| OauthProviderJson {
                kind: word(p.kind()),
                id: p.id,
                display_name: p.display_name,
            })
            .collect();
        PublicConfig {
            self_serve_enabled: config.self_serve_enabled,
            oauth_providers,
            password_min_length: config.password_min_length,
            email_verification_grace_days: config.email_verification_grace_days,
        }
    })
    .await
}

/// One public signing key (RFC 7517; Ed25519 keys are `OKP`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Jwk {
    kty: String,
    kid: String,
    alg: String,
    #[serde(rename = "use")]
    public_key_use: String,
    crv: String,
    x: String,
}

/// A JSON Web Key Set.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Jwks {
    keys: Vec<Jwk>,
}

/// `GET /.well-known/jwks.json`: identity's public keys, for anyone verifying tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth", operation_id = "get_jwks",
    responses((status = 200, description = "The keys access tokens are signed with", body = Jwks)))]
pub(crate) async fn jwks(c: Caller) -> Result<Json<Jwks>, Problem> {
    rpc(c.identity().get_jwks(GetJwksRequest {}), |jwks| Jwks {
        keys: (jwks.keys.into_iter())
            .map(|k| Jwk {
                kty: k.kty,
                kid: k.kid,
                alg: k.alg,
                public_key_use: k.public_key_use,
                crv: k.crv,
                x: k.x,
            })
            .collect(),
    })
    .await
}
