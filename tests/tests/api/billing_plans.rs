//! `GET /v1/plans/public` end to end (public, cacheable), and the admin catalog behind sign-in.

use serde_json::Value;

use crate::support::TestStack;

#[tokio::test]
async fn public_plans_are_listed_without_stripe_ids_and_cacheable() {
    let app = TestStack::spawn().await;
    let response = app.get("/v1/plans/public").await;
    assert_eq!(response.status(), 200);
    let cache = response
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(cache.as_deref(), Some("public, max-age=300"));
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["provider"], "manual",
        "no Stripe key: the manual provider"
    );
    let plans = body["plans"].as_array().expect("plans");
    let codes: Vec<&str> = plans
        .iter()
        .filter_map(|plan| plan["code"].as_str())
        .collect();
    assert_eq!(codes, ["free", "pro"]);
    assert!(
        plans
            .iter()
            .all(|plan| plan.get("stripe_price_id").is_none())
    );
    let seats = &plans[0]["limits"]
        .as_array()
        .expect("limits")
        .iter()
        .find(|limit| limit["field"] == "seats")
        .expect("seats")["max"];
    assert_eq!(seats, 3);
}

#[tokio::test]
async fn the_admin_catalog_needs_a_signed_in_operator() {
    let app = TestStack::spawn().await;
    let response = app.get("/v1/admin/plan-limits").await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn account_billing_routes_need_sign_in() {
    let app = TestStack::spawn().await;
    let tenant = uuid::Uuid::new_v4();
    let gets = [
        format!("/v1/billing/subscription?tenant_id={tenant}"),
        format!("/v1/usage/seats?tenant_id={tenant}"),
    ];
    for path in gets {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 401, "{path}");
    }
    for path in [
        "/v1/billing/checkout",
        "/v1/billing/portal",
        "/v1/billing/start",
    ] {
        let response = app
            .http
            .post(app.url(path))
            .json(&serde_json::json!({"tenant_id": tenant}))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 401, "{path}");
        let problem: Value = response.json().await.expect("problem");
        assert_eq!(problem["reason"], "UNAUTHENTICATED");
    }
}
