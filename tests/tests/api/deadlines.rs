//! The gateway's time budget travels as each RPC's deadline and ends slow requests with 504.

use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::support::{TestStack, attribute, new_trace_id, wait_for_span};

#[tokio::test]
async fn a_budget_shorter_than_a_slow_rpc_gives_504_in_time_and_the_service_saw_the_deadline() {
    let budget = Duration::from_millis(300);
    let app = TestStack::spawn_with(|options| options.request_budget = budget).await;

    // Make identity's ServiceInfo.Describe slow for real: it reads the migrations table, which
    // this transaction locks until it ends.
    let mut blocker = app.connect("identity").await;
    let mut lock = blocker.begin().await.expect("begin");
    sqlx::query("lock table _sqlx_migrations in access exclusive mode")
        .execute(&mut *lock)
        .await
        .expect("lock");

    let trace_id = new_trace_id();
    let started = Instant::now();
    let response = app.get_traced("/v1/status", &trace_id).await;
    let elapsed = started.elapsed();

    assert_eq!(response.status(), 504);
    assert!(
        elapsed < budget + Duration::from_millis(100),
        "answered after {elapsed:?}"
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = response.json().await.expect("json");
    assert_eq!(problem["reason"], "DEADLINE_EXCEEDED", "{problem}");
    assert_eq!(problem["status"], 504);

    let service_span = wait_for_span(|span| {
        span.span_context.trace_id().to_string() == trace_id
            && attribute(span, "onramp.service").as_deref() == Some("identity")
    })
    .await;
    let sent_ms: u64 = attribute(&service_span, "rpc.grpc.timeout_ms")
        .expect("the service recorded the grpc-timeout it received")
        .parse()
        .expect("a number");
    assert!(
        sent_ms > 0 && sent_ms <= 300,
        "grpc-timeout was {sent_ms} ms"
    );

    lock.rollback().await.expect("unlock");
}
