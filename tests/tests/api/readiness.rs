//! `/healthz` and `/readyz` as Kubernetes and a load balancer see them.

use crate::support::TestStack;

#[tokio::test]
async fn readyz_is_200_with_every_service_up_and_503_naming_a_stopped_one() {
    let mut app = TestStack::spawn().await;

    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    for service in onramp_stack::SERVICES {
        assert_eq!(body["services"][service], "SERVING", "{body}");
    }

    app.stack
        .stop_service("billing")
        .await
        .expect("billing stops");
    let not_ready = app.get("/readyz").await;
    assert_eq!(not_ready.status(), 503);
    assert_eq!(
        not_ready.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = not_ready.json().await.expect("json");
    assert_eq!(problem["reason"], "UNAVAILABLE", "{problem}");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("billing"), "{detail}");
    assert!(
        !detail.contains("identity"),
        "only the stopped service is named: {detail}"
    );

    let live = app.get("/healthz").await;
    assert_eq!(live.status(), 200, "liveness does not depend on peers");
    // A stack with a stopped part still stops cleanly (the rest drain and exit without error).
    app.stop().await;
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_the_callers() {
    let app = TestStack::spawn().await;
    let generated = app.get("/healthz").await;
    assert!(!generated.headers()["x-request-id"].is_empty());
    let kept = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "req-123")
        .send()
        .await
        .expect("healthz");
    assert_eq!(kept.headers()["x-request-id"], "req-123");
}
