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

    /// The opaque 500 (the caller logs the cause).
    pub(crate) fn internal() -> Self {
        Self(ApiError::internal())
    }
}

/// The `Retry-After` of a `503` or `504` that gave no hint (a peer that died or is restarting, a
/// budget that ran out on a slow link): soon enough for a browser's retry to land on another
/// replica, late enough not to hammer it. Both codes mean "a retry can help" in the error table.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Whether the table says a retry of the same request can succeed, so the answer needs a hint.
fn retry_can_help(code: Code) -> bool {
    matches!(code, Code::Unavailable | Code::DeadlineExceeded)
}

impl From<tonic::Status> for Problem {
    fn from(status: tonic::Status) -> Self {
        let error = ApiError::from_status(&status);
        if retry_can_help(error.code) {
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
        let mut error = self.0;
        // Every 503/504, whether from a service's status or the gateway's own budget, says when.
        if retry_can_help(error.code) && error.retry_after.is_none() {
            error.retry_after = Some(DEFAULT_RETRY_AFTER);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn retry_after(problem: Problem) -> Option<String> {
        problem
            .into_response()
            .headers()
            .get(header::RETRY_AFTER)
            .map(|value| value.to_str().expect("ascii").to_owned())
    }

    #[test]
    fn a_504_from_the_budget_or_a_peer_says_when_to_retry() {
        let budget = Problem::new(Code::DeadlineExceeded, "the request did not finish");
        assert_eq!(retry_after(budget).as_deref(), Some("1"));
        let peer = Problem::from(tonic::Status::deadline_exceeded("deadline"));
        assert_eq!(retry_after(peer).as_deref(), Some("1"));
    }

    #[test]
    fn a_503_keeps_the_services_hint_and_a_bug_gets_none() {
        let hinted = ApiError::new(Code::Unavailable, "busy")
            .with_retry_after(Duration::from_millis(2500))
            .into_status();
        assert_eq!(retry_after(Problem::from(hinted)).as_deref(), Some("3"));
        let internal = Problem::from(tonic::Status::internal("boom"));
        assert_eq!(retry_after(internal), None);
    }
}
