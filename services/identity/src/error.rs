//! The identity service's one error enum, mapped onto the shared code table (the kit's boundary
//! logs what clients do not see, once).

use std::time::Duration;

use onramp_kit::{ApiError, Code};

use crate::passwords::HashError;

/// Everything an identity operation can fail with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IdentityError {
    /// A request field failed validation.
    #[error("{field}: {message}")]
    InvalidField {
        field: &'static str,
        message: String,
    },
    /// No caller where one is required, or a token that is unknown, expired, used or revoked.
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    /// Login failed; deliberately unspecific.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// A rotated refresh token came back; its family is revoked.
    #[error("refresh token reused")]
    RefreshTokenReused,
    /// Self-serve signup is off.
    #[error("self-serve signup is disabled")]
    SelfServeDisabled,
    /// The caller's account is gone.
    #[error("account not found")]
    NotFound,
    /// The OAuth provider is not configured.
    #[error("oauth provider not configured")]
    ProviderNotFound,
    /// An account with this email exists and linking it would not be safe.
    #[error("email already registered; log in instead")]
    UseLogin,
    /// The invite code is unknown, expired, revoked or already used.
    #[error("invite not found")]
    InviteNotFound,
    /// The invite is for another email address.
    #[error("invite for another email")]
    InviteForAnotherEmail,
    /// Tenancy could not resolve an invite code; nothing changed.
    #[error("invites unavailable: {0}")]
    InvitesUnavailable(String),
    /// An OAuth provider could not be reached; nothing changed.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Every password-hashing slot of this replica is busy; nothing changed, retry shortly.
    #[error("password hashing saturated")]
    HashingBusy,
    /// Too many attempts; retry after the duration.
    #[error("rate limited for {0:?}")]
    RateLimited(Duration),
    /// Anything else: logged once at the edge, opaque to the client.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl IdentityError {
    /// A validation error naming `field`.
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidField {
            field,
            message: message.into(),
        }
    }
}

impl From<HashError> for IdentityError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy => Self::HashingBusy,
            HashError::Failed(cause) => Self::Unexpected(cause),
        }
    }
}

onramp_kit::service_error!(IdentityError);

impl From<IdentityError> for ApiError {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::InvalidField { field, message } => {
                ApiError::invalid_field(field, message)
            }
            IdentityError::Unauthenticated(message) => {
                ApiError::new(Code::Unauthenticated, message)
            }
            IdentityError::InvalidCredentials => {
                ApiError::new(Code::InvalidCredentials, "email or password is incorrect")
            }
            IdentityError::RefreshTokenReused => ApiError::new(
                Code::RefreshTokenReused,
                "this refresh token was already used; every session of its family is now revoked",
            ),
            IdentityError::SelfServeDisabled => {
                ApiError::new(Code::SelfServeDisabled, "signup is by invitation only")
            }
            IdentityError::NotFound => ApiError::new(Code::NotFound, "account not found"),
            IdentityError::ProviderNotFound => {
                ApiError::new(Code::NotFound, "this sign-in provider is not configured")
            }
            IdentityError::UseLogin => ApiError::new(
                Code::EmailAlreadyRegisteredUseLogin,
                "an account already uses this email; log in with your password, then link the provider",
            ),
            IdentityError::InviteNotFound => ApiError::new(
                Code::NotFound,
                "this invite is unknown, expired or already used",
            ),
            IdentityError::InviteForAnotherEmail => ApiError::new(
                Code::PermissionDenied,
                "this invite is for another email address",
            ),
            IdentityError::InvitesUnavailable(cause) => ApiError::new(
                Code::Unavailable,
                "the invite could not be checked right now; try again",
            )
            .caused_by(cause),
            IdentityError::Unavailable(cause) => ApiError::new(
                Code::Unavailable,
                "the sign-in provider could not be reached; try again",
            )
            .caused_by(cause),
            IdentityError::HashingBusy => ApiError::new(
                Code::Unavailable,
                "too many sign-ins are being processed; try again in a moment",
            )
            .with_retry_after(Duration::from_secs(1)),
            IdentityError::RateLimited(after) => {
                ApiError::new(Code::RateLimited, "too many attempts; try again later")
                    .with_retry_after(after)
            }
            IdentityError::Unexpected(cause) => ApiError::unexpected(&cause),
        }
    }
}
