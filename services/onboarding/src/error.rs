//! The service's one error enum, mapped onto the shared code table (the kit's boundary logs what
//! clients do not see, once). The field at fault travels in the structured field, not the message.

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
}

onramp_kit::service_error!(OnboardingError);

impl From<OnboardingError> for ApiError {
    fn from(error: OnboardingError) -> Self {
        use OnboardingError as E;
        match error {
            E::Invalid { field, message } => ApiError::invalid_field(field, message),
            E::InvalidData { field, message } => {
                ApiError::new(Code::InvalidData, message).with_field(field)
            }
            E::Unauthenticated => ApiError::new(Code::Unauthenticated, "sign-in required"),
            E::NotFound(what) => ApiError::new(Code::NotFound, format!("{what} not found")),
            E::Conflict(message) => ApiError::new(Code::Conflict, message),
            E::Stripe(cause) => ApiError::new(
                Code::StripeUnavailable,
                "Stripe could not be reached; nothing was changed, please try again",
            )
            .caused_by(format_args!("{cause:#}")),
            E::RateLimited { retry_after } => {
                ApiError::new(Code::RateLimited, "too many requests from this address")
                    .with_retry_after(retry_after)
            }
            E::Peer(error) => error,
            E::Unexpected(cause) => ApiError::unexpected(&cause),
        }
    }
}
