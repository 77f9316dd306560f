//! The test harness: a fresh stack per test, on its own uniquely named databases, which it drops
//! when the test stops it (and it never drops anything it did not create).

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use onramp_stack::{
    RunningStack, StackOptions,
    postgres::{LOCAL_SERVER_URL, PgServer},
};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

use crate::cleanup::DatabasesGuard;

/// The Postgres server tests use: `DATABASE_URL` if set, else the local one.
pub(crate) fn postgres() -> PgServer {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| LOCAL_SERVER_URL.to_owned());
    PgServer::from_url(&url).expect("DATABASE_URL")
}

/// A database prefix no other test (or person) uses.
pub(crate) fn unique_prefix() -> String {
    format!(
        "onramp_test_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

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

/// A running stack plus an HTTP client pointed at its gateway.
pub(crate) struct TestStack {
    pub(crate) stack: RunningStack,
    pub(crate) http: reqwest::Client,
    /// Drops the stack's databases if the test ends without [`TestStack::stop`] (a failed
    /// assertion panics past it), so failing runs leave nothing behind on the shared server.
    cleanup: DatabasesGuard,
}

impl TestStack {
    /// Starts the stack with default options and waits until `/readyz` says ready.
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts the stack with options adjusted by `adjust`, and waits until it is ready.
    pub(crate) async fn spawn_with(adjust: impl FnOnce(&mut StackOptions)) -> Self {
        spans();
        let mut options = StackOptions::local(postgres(), unique_prefix());
        adjust(&mut options);
        let stack = RunningStack::start(options).await.expect("stack starts");
        let app = Self::adopt(stack);
        app.wait_until_ready().await;
        app
    }

    /// Wraps a stack started elsewhere (e.g. by `onramp up`'s own code path); its databases are
    /// dropped when the test stops it or, failing that, when the test ends.
    pub(crate) fn adopt(stack: RunningStack) -> Self {
        let cleanup = DatabasesGuard::new(stack.server(), stack.created_databases());
        Self {
            stack,
            http: reqwest::Client::new(),
            cleanup,
        }
    }

    /// `http://gateway/<path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stack.gateway_url())
    }

    /// Polls `/readyz` until 200 (bounded).
    pub(crate) async fn wait_until_ready(&self) {
        let start = Instant::now();
        loop {
            let response = self.http.get(self.url("/readyz")).send().await;
            if response.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the stack never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops everything and drops the databases this test created.
    pub(crate) async fn stop(self) {
        let Self {
            stack, mut cleanup, ..
        } = self;
        stack
            .shutdown_and_drop_databases()
            .await
            .expect("clean stop");
        cleanup.disarm();
    }
}

/// A fresh W3C trace id (32 hex digits).
pub(crate) fn new_trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
