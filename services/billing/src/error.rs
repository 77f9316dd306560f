//! Billing's one error enum, mapped onto the shared code table; the kit's boundary logs what clients
//! do not see, once (a rejected webhook signature is counted by the webhook path, not logged).

use onramp_kit::{ApiError, Code};

/// Everything a billing operation can fail with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BillingError {
    /// The Stripe-Signature header did not verify; the reason is operator-facing only.
    #[error("webhook signature invalid: {0}")]
    SignatureInvalid(&'static str),
    /// A request field failed validation.
    #[error("{field}: {message}")]
    InvalidArgument { field: String, message: String },
    /// No signed-in caller where one is required.
    #[error("sign-in required")]
    Unauthenticated,
    /// The named thing does not exist (or is not visible).
    #[error("{0} not found")]
    NotFound(String),
    /// The caller may not do this (or the provider does not support it).
    #[error("{0}")]
    PermissionDenied(String),
    /// The tenant has no Stripe customer yet.
    #[error("no billing account")]
    NoBillingAccount,
    /// A plan limit would be passed.
    #[error("{0}")]
    LimitExceeded(String),
    /// A peer (tenancy) answered with an error from the shared table; passed on as is.
    #[error("peer: {0}")]
    Peer(onramp_kit::ApiError),
    /// Optimistic concurrency or state conflict.
    #[error("{0}")]
    Conflict(String),
    /// Stripe failed or could not be reached; nothing was changed.
    #[error("stripe unavailable: {0:#}")]
    StripeUnavailable(anyhow::Error),
    /// Anything else: a bug or an infrastructure failure. Opaque to clients.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl BillingError {
    /// A validation error naming `field`.
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: field.into(),
            message: message.into(),
        }
    }
}

onramp_kit::service_error!(BillingError);

impl From<BillingError> for ApiError {
    fn from(error: BillingError) -> Self {
        match error {
            BillingError::SignatureInvalid(_) => ApiError::new(
                Code::WebhookSignatureInvalid,
                "the Stripe-Signature header does not verify",
            ),
            BillingError::InvalidArgument { field, message } => {
                ApiError::invalid_field(field, message)
            }
            BillingError::Unauthenticated => {
                ApiError::new(Code::Unauthenticated, "sign-in required")
            }
            BillingError::NotFound(what) => {
                ApiError::new(Code::NotFound, format!("{what} not found"))
            }
            BillingError::PermissionDenied(message) => {
                ApiError::new(Code::PermissionDenied, message)
            }
            BillingError::Conflict(message) => ApiError::new(Code::Conflict, message),
            BillingError::NoBillingAccount => ApiError::new(
                Code::NoBillingAccount,
                "this workspace has no billing account yet: choose a paid plan first",
            ),
            BillingError::LimitExceeded(message) => ApiError::new(Code::LimitExceeded, message),
            BillingError::Peer(error) => error,
            BillingError::StripeUnavailable(cause) => ApiError::new(
                Code::StripeUnavailable,
                "the payment provider could not be reached; nothing was changed, retry",
            )
            .caused_by(format_args!("{cause:#}")),
            BillingError::Unexpected(cause) => ApiError::unexpected(&cause),
        }
    }
}
