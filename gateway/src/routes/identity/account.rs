//! Signup, the caller's account, the public config and the JWKS.

use onramp_proto::identity::v1::{
    self as pb, GetCurrentUserRequest, GetJwksRequest, GetPublicConfigRequest, SignupRequest,
    UpdateCurrentUserRequest,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::routes::prelude::*;

body! {
    /// `POST /v1/auth/signup` body.
    #[serde(default, deny_unknown_fields)]
    SignupBody => SignupRequest {
        #[schema(format = "email")]
        email: String,
        password: String,
        display_name: String,
        invite_code: String,
    }
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

one_rpc! {
    /// Always the same answer, whether the email was new or not (enumeration resistance).
    #[utoipa::path(post, path = "/v1/auth/signup", tag = "auth", operation_id = "signup",
        request_body = SignupBody,
        responses(
            (status = 202, description = "A verification email is on its way (same answer for a known email)", body = Accepted),
            (status = 403, description = "Self-serve signup is off and no valid invite was given"),
            (status = 429, description = "Too many signups"),
        ))]
    pub(crate) fn signup(c: Caller, Json(body): Json<SignupBody>) -> (ACCEPTED, Accepted) =
        c.identity().signup(body.request(c.meta())),
        |_| Accepted::new("check your email to verify your address, then log in");
}

answer! {
    /// `GET /v1/users/me`. Times are RFC 3339 UTC.
    #[schema(as = User)]
    MeJson from pb::User {
        id: String,
        email: String,
        display_name: String,
        email_verified: bool,
        email_verified_at: Option<String> => time,
        verification_grace_ends_at: Option<String> => time,
        email_verification_required: bool,
        has_password: bool,
        linked_oauth_providers: Vec<String>,
        created_at: Option<String> => time,
    }
}

one_rpc! {
    #[utoipa::path(get, path = "/v1/users/me", tag = "users", operation_id = "get_me",
        security(("bearer" = [])),
        responses((status = 200, description = "The signed-in user (allowed behind the verification wall)", body = MeJson)))]
    pub(crate) fn me(c: Caller<AuthUserAllowUnverified>) -> MeJson =
        c.identity().get_current_user(GetCurrentUserRequest { caller: c.meta() }),
        |answer| answer.user.unwrap_or_default().into();
}

body! {
    /// `PATCH /v1/users/me` body.
    #[serde(default, deny_unknown_fields)]
    UpdateMeBody => UpdateCurrentUserRequest {
        display_name: String,
    }
}

one_rpc! {
    /// Behind the verification wall: [`AuthUser`], not the allow-list extractor.
    #[utoipa::path(patch, path = "/v1/users/me", tag = "users", operation_id = "update_me",
        security(("bearer" = [])), request_body = UpdateMeBody,
        responses((status = 200, description = "The updated user", body = MeJson)))]
    pub(crate) fn update_me(c: Caller<AuthUser>, Json(body): Json<UpdateMeBody>) -> MeJson =
        c.identity().update_current_user(body.request(c.meta())),
        |answer| answer.user.unwrap_or_default().into();
}

answer! {
    /// An OAuth/OIDC provider a user can sign in with.
    OauthProviderJson from pb::OauthProvider {
        id: String,
        display_name: String,
        /// `google`, `microsoft` or `oidc`.
        kind: String => word_of::<pb::OauthProviderKind>,
    }
}

answer! {
    /// `GET /v1/config/public` answer.
    PublicConfig from pb::GetPublicConfigResponse {
        self_serve_enabled: bool,
        oauth_providers: Vec<OauthProviderJson> => each,
        password_min_length: u32,
        email_verification_grace_days: u32,
    }
}

one_rpc! {
    /// `GET /v1/config/public`.
    #[utoipa::path(get, path = "/v1/config/public", tag = "auth", operation_id = "get_public_config",
        responses((status = 200, description = "What a sign-up page needs to know", body = PublicConfig)))]
    pub(crate) fn public_config(c: Caller) -> PublicConfig =
        c.identity().get_public_config(GetPublicConfigRequest { caller: c.meta() });
}

answer! {
    /// One public signing key (RFC 7517; Ed25519 keys are `OKP`).
    Jwk from pb::JsonWebKey {
        kty: String,
        kid: String,
        alg: String,
        #[serde(rename = "use")]
        public_key_use: String,
        crv: String,
        x: String,
    }
}

answer! {
    /// A JSON Web Key Set.
    Jwks from pb::GetJwksResponse {
        keys: Vec<Jwk> => each,
    }
}

one_rpc! {
    /// `GET /.well-known/jwks.json`: identity's public keys, for anyone verifying tokens.
    #[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth", operation_id = "get_jwks",
        responses((status = 200, description = "The keys access tokens are signed with", body = Jwks)))]
    pub(crate) fn jwks(c: Caller) -> Jwks = c.identity().get_jwks(GetJwksRequest {});
}
