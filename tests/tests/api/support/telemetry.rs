//! Spans the stack records in this test process, and W3C trace ids to look them up by.

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

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
    let start = Instant::now();
    loop {
        let finished = spans().get_finished_spans().expect("spans");
        if let Some(span) = finished.into_iter().find(|span| predicate(span)) {
            return span;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no matching span was recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
