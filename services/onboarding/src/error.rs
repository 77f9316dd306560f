//! The service's one error enum, mapped to the shared code table at the gRPC edge (and logged there,
//! once).

use std::time::Duration;

use onramp_kit::{ApiError, Code};

/// Everything that can go wrong in onboarding.
#[derive(Debug, thiserror::Error)]
pub enum OnboardingError {
    /// A request field failed validation.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The field, e.g. `data.first_setup.company_name`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A checklist step's data is well-formed but breaks the step's rules (HTTP 422).
    #[error("invalid {field}: {message}")]
    InvalidData {
        /// The field, e.g. `data.first_setup.company_name` or `data`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// No caller where one is required.
    #[error("sign-in required")]
    Unauthenticated,
    /// Something is unknown (or not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The current state does not allow the action.
    #[error("{0}")]
    Conflict(String),
    /// Stripe failed or could not be reached; nothing was changed.
    #[error("stripe call failed: {0:#}")]
    Stripe(anyhow::Error),
    /// Too many sales leads from one client.
    #[error("rate limited")]
    RateLimited {
        /// When the oldest counted lead leaves the window.
        retry_after: Duration,
    },
    /// Another context refused (membership, role, payment gate) or could not answer.
    #[error("{0}")]
    Peer(ApiError),
    /// Anything else: a bug or an infrastructure failure.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl OnboardingError {
    /// A validation error naming `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A step-data error naming `field` (HTTP 422: the request parsed, its content did not pass).
    pub fn invalid_data(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidData {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The client-visible error. Internal causes are logged here and never sent.
    pub fn into_api_error(self) -> ApiError {
        match self {
            Self::Invalid { field, message } => {
                ApiError::invalid_field(field.clone(), format!("{field}: {message}"))
            }
            Self::InvalidData { field, message } => {
                ApiError::new(Code::InvalidData, format!("{field}: {message}")).with_field(field)
            }
            Self::Unauthenticated => ApiError::new(Code::Unauthenticated, "sign-in required"),
            Self::NotFound(what) => ApiError::new(Code::NotFound, format!("{what} not found")),
            Self::Conflict(message) => ApiError::new(Code::Conflict, message),
            Self::Stripe(cause) => {
                tracing::warn!(error = format!("{cause:#}"), "stripe call failed");
                ApiError::new(
                    Code::StripeUnavailable,
                    "Stripe could not be reached; nothing was changed, please try again",
                )
            }
            Self::RateLimited { retry_after } => {
                ApiError::new(Code::RateLimited, "too many requests from this address")
                    .with_retry_after(retry_after)
            }
            Self::Peer(error) => error,
            Self::Unexpected(cause) if onramp_kit::db::caused_by_transient(&cause) => {
                tracing::warn!(error = format!("{cause:#}"), "database connection lost");
                onramp_kit::db::unavailable()
            }
            Self::Unexpected(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                ApiError::internal()
            }
        }
    }
}

impl From<sqlx::Error> for OnboardingError {
    fn from(error: sqlx::Error) -> Self {
        Self::Unexpected(error.into())
    }
}

impl From<OnboardingError> for tonic::Status {
    fn from(error: OnboardingError) -> Self {
        error.into_api_error().into_status()
    }
}
