//! Spans the stack records in this test process, and W3C trace ids to look them up by.

use std::{sync::OnceLock, time::Duration};

use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

use super::{TestStack, poll::eventually};

/// One in-memory span exporter per test process (the global subscriber can be installed once).
pub(crate) fn spans() -> &'static InMemorySpanExporter {
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let (guard, exporter) =
            onramp_kit::telemetry::init_in_memory("onramp-e2e").expect("telemetry");
        // The provider must outlive every test in the process.
        std::mem::forget(guard);
        exporter
    })
}

/// Waits (bounded) until a finished span matches `predicate`.
pub(crate) async fn wait_for_span(predicate: impl Fn(&SpanData) -> bool) -> SpanData {
    eventually(Duration::from_secs(5), async || {
        let finished = spans().get_finished_spans().expect("spans");
        finished
            .into_iter()
            .find(|span| predicate(span))
            .ok_or("no matching span was recorded".to_owned())
    })
    .await
}

/// A string attribute of a span.
pub(crate) fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

/// A fresh W3C trace id (32 hex digits).
pub(crate) fn new_trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A sampled W3C `traceparent` continuing the caller's trace `trace_id`.
pub(crate) fn traceparent_of(trace_id: &str) -> String {
    format!("00-{trace_id}-00f067aa0ba902b7-01")
}

impl TestStack {
    /// `GET <path>` on the gateway, no credentials, continuing the caller's trace `trace_id`.
    pub(crate) async fn get_traced(&self, path: &str, trace_id: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .header("traceparent", traceparent_of(trace_id))
            .send()
            .await
            .expect("the gateway answers")
    }
}
