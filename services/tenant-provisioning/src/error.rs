//! The service's one error enum, and its mapping onto the shared code table (the kit's boundary
//! logs what clients do not see, once).

use std::time::Duration;

use onramp_kit::{ApiError, Code};

use crate::domain::inputs::Invalid;

/// Everything tenancy can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TenancyError {
    #[error("invalid {}: {}", .0.field, .0.message)]
    Invalid(Invalid),
    #[error("invalid idempotency key: {0}")]
    IdempotencyKeyInvalid(String),
    #[error("no signed-in caller")]
    Unauthenticated,
    #[error("not found")]
    NotFound(&'static str),
    #[error("permission denied: {0}")]
    PermissionDenied(&'static str),
    #[error("payment pending")]
    PaymentPending { retry_after: Duration },
    #[error("already exists: {field}")]
    AlreadyExists {
        field: &'static str,
        message: &'static str,
    },
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("idempotency key reused with different parameters")]
    IdempotencyKeyReused,
    #[error("limit exceeded: {0}")]
    LimitExceeded(&'static str),
    #[error("email verification required")]
    EmailVerificationRequired,
    /// Provisioning failed as a whole; the cause is for operators only.
    #[error("provisioning failed at {step}: {cause:#}")]
    ProvisioningFailed {
        step: &'static str,
        cause: anyhow::Error,
    },
    /// A peer (billing, identity) could not answer; nothing was changed.
    #[error("{peer} unavailable: {detail}")]
    Unavailable { peer: &'static str, detail: String },
    /// Anything else: a bug or the database; opaque to clients.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<Invalid> for TenancyError {
    fn from(invalid: Invalid) -> Self {
        TenancyError::Invalid(invalid)
    }
}

onramp_kit::service_error!(TenancyError);

impl From<TenancyError> for ApiError {
    fn from(error: TenancyError) -> Self {
        match error {
            TenancyError::Invalid(invalid) => {
                ApiError::invalid_field(invalid.field, invalid.message)
            }
            TenancyError::IdempotencyKeyInvalid(message) => {
                ApiError::new(Code::IdempotencyKeyInvalid, message).with_field("idempotency_key")
            }
            TenancyError::Unauthenticated => {
                ApiError::new(Code::Unauthenticated, "sign-in required")
            }
            TenancyError::NotFound(what) => {
                ApiError::new(Code::NotFound, format!("{what} not found"))
            }
            TenancyError::PermissionDenied(why) => ApiError::new(Code::PermissionDenied, why),
            TenancyError::PaymentPending { retry_after } => ApiError::new(
                Code::PaymentPending,
                "the workspace is waiting for its payment to be confirmed",
            )
            .with_retry_after(retry_after),
            TenancyError::AlreadyExists { field, message } => {
                ApiError::new(Code::AlreadyExists, message).with_field(field)
            }
            TenancyError::Conflict(why) => ApiError::new(Code::Conflict, why),
            TenancyError::IdempotencyKeyReused => ApiError::new(
                Code::IdempotencyKeyReused,
                "this idempotency key was already used with different parameters",
            )
            .with_field("idempotency_key"),
            TenancyError::LimitExceeded(why) => ApiError::new(Code::LimitExceeded, why),
            TenancyError::EmailVerificationRequired => ApiError::new(
                Code::EmailVerificationRequired,
                "verify your email address before accepting the invite",
            ),
            // A lost connection rolled the provisioning transaction back: nothing was kept, and
            // the same request (same Idempotency-Key) may well succeed, so the kit says "retry".
            TenancyError::ProvisioningFailed { step, cause } => ApiError::unexpected_or(
                &cause.context(step),
                ApiError::new(
                    Code::TenantProvisioningError,
                    "your workspace could not be created; nothing was kept, please try again",
                ),
            ),
            TenancyError::Unavailable { peer, detail } => ApiError::new(
                Code::Unavailable,
                format!("{peer} is unavailable; nothing was changed, retry"),
            )
            .caused_by(detail),
            TenancyError::Unexpected(cause) => ApiError::unexpected(&cause),
        }
    }
}
