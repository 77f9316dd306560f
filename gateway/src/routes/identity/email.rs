//! Email verification and password reset.

use onramp_proto::identity::v1::{
    self as pb, CompletePasswordResetRequest, RequestPasswordResetRequest,
    ResendVerificationRequest, VerifyEmailRequest,
};

use super::account::Accepted;
use crate::routes::prelude::*;

body! {
    /// `POST /v1/auth/verify-email` body.
    #[serde(default, deny_unknown_fields)]
    TokenBody => VerifyEmailRequest {
        token: String,
    }
}

answer! {
    /// `POST /v1/auth/verify-email` answer.
    Verified from pb::VerifyEmailResponse {
        user_id: String,
        already_verified: bool,
    }
}

one_rpc! {
    #[utoipa::path(post, path = "/v1/auth/verify-email", tag = "auth", operation_id = "verify_email",
        request_body = TokenBody,
        responses(
            (status = 200, description = "The address is verified", body = Verified),
            LinkRefused,
        ))]
    pub(crate) fn verify(c: Caller, Json(body): Json<TokenBody>) -> Verified =
        c.identity().verify_email(body.request(c.meta()));
}

answer! {
    /// `POST /v1/auth/resend-verification` answer (times are RFC 3339 UTC).
    Resent from pb::ResendVerificationResponse {
        already_verified: bool,
        next_resend_allowed_at: Option<String> => time,
    }
}

one_rpc! {
    /// Allowed behind the verification wall, of course.
    #[utoipa::path(post, path = "/v1/auth/resend-verification", tag = "auth",
        operation_id = "resend_verification", security(("bearer" = [])),
        responses(
            (status = 200, description = "A new verification email is on its way", body = Resent),
            (status = 429, description = "Resent too recently"),
        ))]
    pub(crate) fn resend(c: Caller<AuthUserAllowUnverified>) -> Resent =
        c.identity().resend_verification(ResendVerificationRequest { caller: c.meta() });
}

body! {
    /// `POST /v1/auth/password-reset` body.
    #[serde(default, deny_unknown_fields)]
    ResetRequestBody => RequestPasswordResetRequest {
        #[schema(format = "email")]
        email: String,
    }
}

one_rpc! {
    /// The same answer whether the account exists or not.
    #[utoipa::path(post, path = "/v1/auth/password-reset", tag = "auth",
        operation_id = "request_password_reset", request_body = ResetRequestBody,
        responses(
            (status = 202, description = "A reset link is sent if the account exists", body = Accepted),
            (status = 429, description = "Too many reset requests"),
        ))]
    pub(crate) fn request_reset(c: Caller, Json(body): Json<ResetRequestBody>)
        -> (ACCEPTED, Accepted) = c.identity().request_password_reset(body.request(c.meta())),
        |_| Accepted::new("if an account uses this address, a reset link is on its way");
}

body! {
    /// `POST /v1/auth/password-reset/complete` body.
    #[serde(default, deny_unknown_fields)]
    CompleteResetBody => CompletePasswordResetRequest {
        token: String,
        new_password: String,
        /// Provider ids to unlink as part of the reset (the reset mail lists the linked ones); each must
        /// be linked to the account, else 400 naming `unlink_oauth_providers`.
        unlink_oauth_providers: Vec<String>,
    }
}

answer! {
    /// `POST /v1/auth/password-reset/complete` answer.
    ResetDone from pb::CompletePasswordResetResponse {
        sessions_revoked: u32,
        /// Provider ids still linked to the account.
        linked_oauth_providers: Vec<String>,
        /// Provider ids this reset unlinked.
        unlinked_oauth_providers: Vec<String>,
    }
}

one_rpc! {
    #[utoipa::path(post, path = "/v1/auth/password-reset/complete", tag = "auth",
        operation_id = "complete_password_reset", request_body = CompleteResetBody,
        responses(
            (status = 200, description = "The password is changed; every session is revoked", body = ResetDone),
            LinkRefused,
        ))]
    pub(crate) fn complete_reset(c: Caller, Json(body): Json<CompleteResetBody>) -> ResetDone =
        c.identity().complete_password_reset(body.request(c.meta()));
}
