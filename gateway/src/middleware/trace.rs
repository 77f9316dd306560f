//! One span per HTTP request, continuing the browser's or Stripe's `traceparent`; the trace id goes
//! back to the caller in `traceparent` and `x-trace-id`. [`super::edge`] opens the span
//! ([`request_span`]) and stamps the response ([`stamp`]).
//!
//! The span is named after the matched route template (`GET /v1/invites/{code}`), never the request's
//! path: paths carry secrets (invite codes, onboarding tokens) and ids, which must not end up in a
//! tracing backend. A request no route matched is `unmatched`.

use axum::{extract::MatchedPath, response::Response};
use http::HeaderValue;
use onramp_kit::grpc::trace_context;
use opentelemetry::trace::TraceContextExt as _;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::middleware::header_str;

/// The request's span, parented on its incoming `traceparent` (a missing or malformed one starts a
/// new trace, which is what the caller gets back).
pub(crate) fn request_span<B>(request: &http::Request<B>) -> Span {
    let request_id = header_str(request.headers(), "x-request-id").unwrap_or_default();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let method = request.method().as_str();
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        http.request.method = method,
        http.route = route,
        request_id = request_id,
        http.response.status_code = tracing::field::Empty,
    );
    let _ = span.set_parent(trace_context::extract(request.headers()));
    span
}

/// Records the response's status on `span` and returns the trace to the caller (`traceparent`,
/// `x-trace-id`).
pub(crate) fn stamp(span: &Span, response: &mut Response) {
    span.record("http.response.status_code", response.status().as_u16());
    let context = span.context();
    let otel_span = context.span();
    let span_context = otel_span.span_context();
    if !span_context.is_valid() {
        return;
    }
    let trace_id = span_context.trace_id().to_string();
    let traceparent = format!(
        "00-{trace_id}-{}-{:02x}",
        span_context.span_id(),
        span_context.trace_flags().to_u8()
    );
    let headers = response.headers_mut();
    // Hex digits and dashes only, so both are valid header values (taken without another copy).
    if let Ok(value) = HeaderValue::try_from(traceparent) {
        headers.insert("traceparent", value);
    }
    if let Ok(value) = HeaderValue::try_from(trace_id) {
        headers.insert("x-trace-id", value);
    }
}
