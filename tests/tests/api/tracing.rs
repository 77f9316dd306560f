//! One trace from the caller through the gateway into every service.

use crate::support::{TestStack, attribute, new_trace_id, wait_for_span};

#[tokio::test]
async fn a_callers_traceparent_reaches_a_span_recorded_inside_a_service() {
    let app = TestStack::spawn().await;
    let trace_id = new_trace_id();

    let response = app.get_traced("/v1/status", &trace_id).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-trace-id"], trace_id.as_str());
    let traceparent = response.headers()["traceparent"].to_str().expect("ascii");
    assert!(
        traceparent.starts_with(&format!("00-{trace_id}-")),
        "{traceparent}"
    );
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["services"].as_array().map(Vec::len), Some(4), "{body}");

    let service_span = wait_for_span(|span| {
        span.span_context.trace_id().to_string() == trace_id
            && span.name == "onramp.common.v1.ServiceInfo/Describe"
            && attribute(span, "onramp.service").as_deref() == Some("billing")
    })
    .await;
    assert_eq!(
        service_span.span_kind,
        opentelemetry::trace::SpanKind::Server
    );
}
