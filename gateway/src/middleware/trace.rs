//! One span per HTTP request, continuing the browser's or Stripe's `traceparent`; the trace id goes
//! back to the caller in `traceparent` and `x-trace-id`.
//!
//! The span is named after the matched route template (`GET /v1/invites/{code}`), never the request's
//! path: paths carry secrets (invite codes, onboarding tokens) and ids, which must not end up in a
//! tracing backend. A request no route matched is `unmatched`.

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use http::HeaderValue;
use onramp_kit::grpc::trace_context;
use opentelemetry::trace::TraceContextExt as _;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::middleware::header_str;

/// Opens the request span (parented on the incoming `traceparent`) and stamps the response.
pub(crate) async fn continue_trace(request: Request, next: Next) -> Response {
    let request_id = header_str(request.headers(), "x-request-id")
        .unwrap_or_default()
        .to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format!("{} {route}", request.method()),
        otel.kind = "server",
        http.request.method = %request.method(),
        http.route = %route,
        request_id = %request_id,
        http.response.status_code = tracing::field::Empty,
    );
    // A missing or malformed traceparent starts a new trace, which is what the caller gets back.
    let _ = span.set_parent(trace_context::extract(request.headers()));
    let context = span.context();
    let mut response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());

    let span_context = context.span().span_context().clone();
    if span_context.is_valid() {
        let traceparent = format!(
            "00-{}-{}-{:02x}",
            span_context.trace_id(),
            span_context.span_id(),
            span_context.trace_flags().to_u8()
        );
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&traceparent) {
            headers.insert("traceparent", value);
        }
        if let Ok(value) = HeaderValue::from_str(&span_context.trace_id().to_string()) {
            headers.insert("x-trace-id", value);
        }
    }
    response
}
