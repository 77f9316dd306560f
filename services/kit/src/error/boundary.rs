//! The one boundary between a service's error enum and the wire.
//!
//! A service maps its enum onto the table (`impl From<MyError> for ApiError`) without logging; the
//! variants that carry a cause the client must not see go through [`ApiError::unexpected`],
//! [`ApiError::unexpected_or`] or [`ApiError::caused_by`], which log it here, once, under the one
//! field name `error`. [`crate::service_error!`] then gives the enum `From<sqlx::Error>` (into its
//! `Unexpected` variant) and `From<MyError> for tonic::Status`, so `?` works at the gRPC handlers.

use std::fmt::Display;

use super::{ApiError, contention};
use crate::db;

impl ApiError {
    /// The answer to a failure nobody expected (a bug, the database): `INTERNAL`, or `UNAVAILABLE`
    /// with a retry hint when a lost database connection, a deadlock or a serialization failure is
    /// anywhere in `cause` (the transaction was rolled back, so the same request may well succeed).
    pub fn unexpected(cause: &anyhow::Error) -> Self {
        Self::unexpected_or(cause, Self::internal())
    }

    /// Like [`ApiError::unexpected`], but answering `answer` for what is not a lost connection (a
    /// failure with its own code, such as a provisioning that kept nothing).
    pub fn unexpected_or(cause: &anyhow::Error, answer: ApiError) -> Self {
        if db::caused_by_transient(cause) {
            tracing::warn!(error = %format_args!("{cause:#}"), "database connection lost");
            db::unavailable()
        } else if contention::caused_by_contention(cause) {
            tracing::warn!(error = %format_args!("{cause:#}"), "transaction lost a race; retry");
            contention::retry_later()
        } else {
            tracing::error!(error = %format_args!("{cause:#}"), reason = answer.code.reason(),
                "unexpected error");
            answer
        }
    }

    /// This answer, given because a dependency (Stripe, a peer, a provider) failed with `cause`;
    /// the cause is logged at warn level, never sent.
    pub fn caused_by(self, cause: impl Display) -> Self {
        tracing::warn!(error = %cause, reason = self.code.reason(), "dependency failed");
        self
    }
}

/// Wires a service's error enum (which has an `Unexpected(anyhow::Error)` variant and a
/// `From<Enum> for ApiError` mapping) to the shared boundary: `?` on a `sqlx::Error` lands in
/// `Unexpected`, and `?` in a gRPC handler encodes the enum as a status through the table.
#[macro_export]
macro_rules! service_error {
    ($error:ty) => {
        impl ::core::convert::From<::sqlx::Error> for $error {
            fn from(error: ::sqlx::Error) -> Self {
                Self::Unexpected(error.into())
            }
        }

        impl ::core::convert::From<$error> for ::tonic::Status {
            fn from(error: $error) -> Self {
                $crate::ApiError::from(error).into_status()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    #[test]
    fn an_unexpected_cause_is_opaque_and_a_lost_connection_says_retry() {
        let bug = anyhow::anyhow!("secret internals");
        let answer = ApiError::unexpected(&bug);
        assert_eq!(answer.code, Code::Internal);
        assert!(!answer.message.contains("secret"));
        let lost = anyhow::Error::from(sqlx::Error::PoolTimedOut).context("loading");
        assert_eq!(ApiError::unexpected(&lost).code, Code::Unavailable);
        let own = ApiError::new(Code::TenantProvisioningError, "nothing was kept");
        assert_eq!(ApiError::unexpected_or(&bug, own.clone()), own);
        assert_eq!(ApiError::unexpected_or(&lost, own).code, Code::Unavailable);
    }
}
