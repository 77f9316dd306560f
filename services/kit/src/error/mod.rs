//! Errors on the wire: [`ApiError`] is what a service returns and what the gateway receives.
//!
//! A service turns its own error enum into an [`ApiError`] (choosing a [`Code`]), which travels as a
//! `tonic::Status` carrying `google.rpc.ErrorInfo` (reason), `BadRequest` (field) and `RetryInfo`. The
//! gateway rebuilds the same [`ApiError`] with [`ApiError::from_status`] and never guesses.

mod boundary;
mod code;
mod contention;

use std::{collections::HashMap, time::Duration};

use onramp_proto::ERROR_DOMAIN;
use tonic::Status;
use tonic_types::{ErrorDetails, StatusExt};

pub use code::Code;

/// A client-visible error: a code from the table, a message safe to show, and optional details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The table entry.
    pub code: Code,
    /// A message for the user; never contains internal causes.
    pub message: String,
    /// The request field at fault, for validation errors.
    pub field: Option<String>,
    /// When the client should come back (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with a code and a user-facing message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// A validation error naming the field at fault.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message).with_field(field)
    }

    /// The opaque internal error; the cause must be logged by the caller, not sent.
    pub fn internal() -> Self {
        Self::new(Code::Internal, "an internal error occurred")
    }

    /// Names the request field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Tells the client when to retry.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// Encodes the error as a gRPC status with rich details.
    pub fn into_status(self) -> Status {
        let mut details = ErrorDetails::new();
        let mut metadata = HashMap::new();
        if let Some(field) = &self.field {
            metadata.insert("field".to_owned(), field.clone());
            details.add_bad_request_violation(field.clone(), self.message.clone());
        }
        details.set_error_info(self.code.reason(), ERROR_DOMAIN, metadata);
        if let Some(after) = self.retry_after {
            details.set_retry_info(Some(after));
        }
        Status::with_error_details(self.code.grpc(), self.message, details)
    }

    /// Decodes a status received from an Onramp service (or anything else) into the table.
    pub fn from_status(status: &Status) -> Self {
        let details = status.get_error_details();
        let code = details
            .error_info()
            .filter(|info| info.domain == ERROR_DOMAIN)
            .and_then(|info| Code::from_reason(&info.reason))
            .unwrap_or_else(|| Code::from_grpc(status.code()));
        let field = details
            .bad_request()
            .and_then(|bad| bad.field_violations.first())
            .map(|violation| violation.field.clone());
        let retry_after = details.retry_info().and_then(|info| info.retry_delay);
        // Messages of foreign or internal failures may leak internals; only table codes keep theirs.
        let message = match code {
            Code::Internal => ApiError::internal().message,
            Code::Unavailable | Code::DeadlineExceeded if details.error_info().is_none() => {
                code.title().to_owned()
            }
            _ => status.message().to_owned(),
        };
        Self {
            code,
            message,
            field,
            retry_after,
        }
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        error.into_status()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.reason(), self.message)
    }
}

impl std::error::Error for ApiError {}
