//! Strict JSON bodies at the edge, before any handler parses one: a body on a mutation must be
//! `application/json` (`415` otherwise), at most `JSON_BODY_LIMIT_BYTES` (`413`), and nested at most
//! `JSON_MAX_DEPTH` deep (`400`), each as problem+json naming the problem. Handlers then never see a
//! form post (which a foreign page could send without a CORS preflight) or a body built to exhaust
//! the parser. Stripe's webhooks take their raw body as Stripe sent it and are exempt.

use axum::{
    body::{Body, HttpBody as _},
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{Method, header};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use onramp_kit::{ApiError, Code};

use crate::{middleware::is_webhook, problem::Problem};

/// The limits a JSON body must keep.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonRules {
    pub(crate) max_bytes: usize,
    pub(crate) max_depth: usize,
}

/// Checks a mutation's body against `rules` and hands the handler the same bytes.
pub(crate) async fn enforce(
    State(rules): State<JsonRules>,
    request: Request,
    next: Next,
) -> Response {
    let takes_body = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if !takes_body || is_webhook(request.uri().path()) {
        return next.run(request).await;
    }
    match check(rules, request).await {
        Ok(request) => next.run(request).await,
        Err(problem) => problem.into_response(),
    }
}

async fn check(rules: JsonRules, request: Request) -> Result<Request, Problem> {
    // The body knows its Content-Length (exact), or that it is chunked (no exact size).
    let size = request.body().size_hint();
    let has_body = size.upper() != Some(0);
    match request.headers().get(header::CONTENT_TYPE) {
        Some(value) if !is_json(value.to_str().unwrap_or_default()) => {
            return Err(unsupported(
                "this route accepts application/json bodies only",
            ));
        }
        None if has_body => {
            return Err(unsupported(
                "a request body needs Content-Type: application/json",
            ));
        }
        None => return Ok(request),
        Some(_) => {}
    }
    if size.lower() > rules.max_bytes as u64 {
        return Err(too_large(rules.max_bytes));
    }
    let (parts, body) = request.into_parts();
    let bytes = match Limited::new(body, rules.max_bytes).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if is_length_limit(&*error) => return Err(too_large(rules.max_bytes)),
        Err(error) => {
            tracing::debug!(%error, "reading the request body failed");
            return Err(invalid("the request body could not be read"));
        }
    };
    if let Some(depth) = too_deep(&bytes, rules.max_depth) {
        return Err(invalid(format!(
            "the JSON body is nested {depth} levels deep; at most {} are allowed",
            rules.max_depth
        )));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// `application/json` or any `application/*+json`, parameters (`; charset=utf-8`) aside.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whether the error (or what it wraps: the outer body limit's own) is a length limit.
fn is_length_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<LengthLimitError>() {
            return true;
        }
        current = error.source();
    }
    false
}

/// The first depth past `max` that the body's arrays and objects reach, if any. Brackets inside
/// strings do not count; the scan is linear and allocates nothing.
fn too_deep(json: &[u8], max: usize) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0_usize, false, false);
    for &byte in json {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(depth);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn unsupported(message: &str) -> Problem {
    Problem(ApiError::new(Code::UnsupportedMediaType, message).with_field("content-type"))
}

fn too_large(max: usize) -> Problem {
    Problem(
        ApiError::new(
            Code::PayloadTooLarge,
            format!("the JSON body is larger than {max} bytes"),
        )
        .with_field("body"),
    )
}

fn invalid(message: impl Into<String>) -> Problem {
    Problem(ApiError::invalid_field("body", message))
}
