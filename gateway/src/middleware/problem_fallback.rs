//! One error shape for everything: an error response that is not already problem+json (axum's own
//! rejections in plain text, the empty `405`, the body limit's `413`) is rewritten as problem+json
//! with the reason its status stands for, keeping the original text as the detail.

use axum::{
    body::to_bytes,
    response::{IntoResponse, Response},
};
use http::{StatusCode, header};
use onramp_kit::{ApiError, Code};

use crate::problem::Problem;

/// The longest original body kept as the detail (axum's rejection texts are one line).
const DETAIL_LIMIT: usize = 1024;

/// Whether `response` is an error that is not problem+json yet (most responses are not errors, and
/// need no [`rewrite`]).
pub(crate) fn needs_rewrite(response: &Response) -> bool {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/problem+json"));
    (status.is_client_error() || status.is_server_error()) && !is_problem
}

/// Rewrites a non-problem error response as problem+json (any other response is returned as is).
pub(crate) async fn rewrite(response: Response) -> Response {
    if !needs_rewrite(&response) {
        return response;
    }
    let status = response.status();
    let (parts, body) = response.into_parts();
    let text = to_bytes(body, DETAIL_LIMIT)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let code = code_for(status);
    let detail = if text.is_empty() || code == Code::Internal {
        code.title().to_owned()
    } else {
        text
    };
    let mut error = ApiError::new(code, detail);
    if matches!(code, Code::InvalidArgument | Code::PayloadTooLarge) {
        error = error.with_field("body");
    }
    let mut rewritten = Problem(error).into_response();
    // Keep what the original said about the exchange (Allow on a 405, say).
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = parts.headers.get(&name) {
            rewritten.headers_mut().insert(name, value.clone());
        }
    }
    rewritten
}

/// The table code an HTTP status stands for. `422` (axum's "valid JSON, wrong shape") is a bad
/// field like any other here: `400 INVALID_ARGUMENT`.
fn code_for(status: StatusCode) -> Code {
    match status {
        StatusCode::UNAUTHORIZED => Code::Unauthenticated,
        StatusCode::FORBIDDEN => Code::PermissionDenied,
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => Code::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType,
        StatusCode::TOO_MANY_REQUESTS => Code::RateLimited,
        StatusCode::NOT_IMPLEMENTED => Code::Unimplemented,
        StatusCode::SERVICE_UNAVAILABLE => Code::Unavailable,
        StatusCode::GATEWAY_TIMEOUT => Code::DeadlineExceeded,
        status if status.is_client_error() => Code::InvalidArgument,
        _ => Code::Internal,
    }
}
