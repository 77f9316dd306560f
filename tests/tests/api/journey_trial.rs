//! The same journey without a card: a card-less trial of a paid plan with the stripe provider, and a
//! plan started with the `manual` provider (no Stripe at all). The workspace still waits for its plan
//! (402 + Retry-After) and the shipped retry policy still reaches it in the same session.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::support::{
    journey::{Journey, Provider, traceparent},
    journey_team::{assert_span, team_and_payouts},
    users::status_and_json,
};
use onramp_tenant_provisioning::client::Readiness;

/// Signup → workspace → 402 → the plan started without a card while the client polls → ready →
/// the shared tail. Returns the subscription summary after the start.
async fn card_less_journey(provider: Provider, plan: &str) -> Value {
    let journey = Journey::spawn(provider).await;
    let owner = journey.world.verified_user().await;
    let key = uuid::Uuid::new_v4().to_string();
    let created = journey.provision(&owner, &key, None).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("json");
    let tenant = created["tenant"]["id"].as_str().expect("id").to_owned();
    assert_eq!(created["tenant"]["state"], "pending_payment", "{created}");
    journey.assert_payment_pending(&owner, &tenant).await;

    let first_pending = Arc::new(Notify::new());
    let (start_trace, start_trace_id) = traceparent();
    let start = async {
        first_pending.notified().await;
        let request = journey
            .world
            .authed(
                reqwest::Method::POST,
                "/v1/billing/start",
                &owner.access_token,
            )
            .header("traceparent", &start_trace)
            .json(&json!({ "tenant_id": tenant, "plan_id": plan }));
        let (status, summary) = status_and_json(request).await;
        assert_eq!(status, StatusCode::OK, "{summary}");
        summary
    };
    let (readiness, summary) = tokio::join!(
        journey.wait_until_ready(&owner, &tenant, first_pending.clone()),
        start
    );
    assert!(
        matches!(readiness, Readiness::Ready { polls } if polls >= 2),
        "{readiness:?}"
    );
    // The start crossed the gateway, billing, and tenancy (billing's membership check).
    for (service, rpc) in [
        ("gateway", "POST /v1/billing/start"),
        ("billing", "StartPlanWithoutCard"),
        ("tenant-provisioning", "CheckMembership"),
    ] {
        assert_span(&start_trace_id, service, rpc).await;
    }
    let read = journey
        .get_json(&owner, &format!("/v1/tenants/{tenant}"))
        .await;
    assert_eq!(read["tenant"]["state"], "active", "{read}");

    team_and_payouts(&journey, &owner, &tenant, provider == Provider::Stripe).await;
    summary
}

#[tokio::test]
async fn a_card_less_trial_reaches_a_ready_workspace_and_onboards_a_team() {
    let summary = card_less_journey(Provider::Stripe, "pro").await;
    assert_eq!(summary["provider"], "stripe", "{summary}");
    assert_eq!(summary["plan"]["code"], "pro", "{summary}");
    assert_eq!(summary["status"], "trialing", "{summary}");
    assert_eq!(
        summary["has_billing_account"], false,
        "no card, no customer"
    );
}

#[tokio::test]
async fn the_manual_provider_runs_the_journey_without_stripe() {
    let summary = card_less_journey(Provider::Manual, "free").await;
    assert_eq!(summary["provider"], "manual", "{summary}");
    assert_eq!(summary["plan"]["code"], "free", "{summary}");
}
