//! RFC 9457 `application/problem+json`: the one error shape of the HTTP API.

use std::time::Duration;

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};
use onramp_kit::{ApiError, Code, grpc::trace_context};
use serde::Serialize;

/// An error answered to an HTTP client.
#[derive(Debug)]
pub(crate) struct Problem(pub(crate) ApiError);

/// The JSON body of a problem response.
#[derive(Debug, Serialize)]
struct ProblemBody<'a> {
    /// A URI naming the problem type, stable per reason.
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    detail: &'a str,
    /// The machine-readable reason from the error table (`PAYMENT_PENDING`, ...).
    reason: &'static str,
    /// The request field at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// The trace to quote when reporting the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<String>,
}

impl Problem {
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        Self(ApiError::new(code, message))
    }
}

/// The `Retry-After` of a `503` whose service gave no hint (a peer that died or is restarting):
/// soon enough for a browser's retry to land on another replica, late enough not to hammer it.
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(1);

impl From<tonic::Status> for Problem {
    fn from(status: tonic::Status) -> Self {
        let mut error = ApiError::from_status(&status);
        if error.code == Code::Unavailable && error.retry_after.is_none() {
            error.retry_after = Some(UNAVAILABLE_RETRY_AFTER);
        }
        if matches!(error.code, Code::Unavailable | Code::DeadlineExceeded) {
            tracing::warn!(grpc_code = ?status.code(), grpc_message = status.message(), "downstream call failed");
        }
        if error.code == Code::Internal {
            // The service logged the cause; this records which call failed, once, at the edge.
            tracing::error!(grpc_code = ?status.code(), grpc_message = status.message(), "downstream internal error");
        }
        Self(error)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let error = self.0;
        let status = StatusCode::from_u16(error.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ProblemBody {
            kind: format!(
                "https://onramp.dev/problems/{}",
                error.code.reason().to_lowercase().replace('_', "-")
            ),
            title: error.code.title(),
            status: status.as_u16(),
            detail: &error.message,
            reason: error.code.reason(),
            field: error.field.as_deref(),
            trace_id: trace_context::current_trace_id(),
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(after) = error.retry_after {
            // Retry-After is whole seconds; round up so a client never comes back too early.
            let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
