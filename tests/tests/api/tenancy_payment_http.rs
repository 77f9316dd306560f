//! The payment race over HTTP: a workspace waiting for payment answers 402 PAYMENT_PENDING with
//! Retry-After on tenant-scoped routes; the activation arrives by RPC as billing's relay sends it;
//! the shipped client retry policy, polling `GET /v1/tenants/{id}/status`, reaches `ready` within its
//! window. Duplicate and illegal lifecycle events change nothing.

use std::time::Duration;

use onramp_proto::tenancy::v1::{
    self as pb, BillingEventOutcome, LifecycleTransition,
    tenancy_service_client::TenancyServiceClient,
};
use onramp_tenant_provisioning::client::{Observation, Readiness, ReadinessPolicy};
use reqwest::{Method, StatusCode, header::RETRY_AFTER};
use serde_json::Value;
use tokio::sync::Notify;
use tonic::transport::Channel;

use crate::support::{
    TestStack, User,
    tenancy::{count, get, new_tenant_on, starter_data},
};

/// A workspace provisioned without a plan: tenancy asks the real billing service, which has no
/// active entitlement for it yet, so it waits for payment (as after choosing a plan in Checkout).
async fn pending_tenant(world: &TestStack, owner: &User, name: &str) -> String {
    new_tenant_on(world, owner, name, "").await
}

/// Tenancy's gRPC client, as billing's outbox relay holds it.
async fn billing_relay(world: &TestStack) -> TenancyServiceClient<Channel> {
    TenancyServiceClient::connect(world.service_url("tenant-provisioning"))
        .await
        .expect("connect")
}

fn event(
    tenant: &str,
    transition: LifecycleTransition,
    version: i64,
) -> pb::ApplyBillingEventRequest {
    pb::ApplyBillingEventRequest {
        event_id: uuid::Uuid::new_v4().to_string(),
        tenant_id: tenant.to_owned(),
        transition: transition.into(),
        billing_version: version,
        occurred_at: None,
        plan_id: String::new(),
        stripe_event_id: "evt_e2e".to_owned(),
        reason: "checkout.session.completed".to_owned(),
    }
}

/// One poll of the status route, read the way the web app reads it.
async fn observe(world: &TestStack, user: &User, tenant: &str) -> Result<Observation, String> {
    let response = world
        .authed(
            Method::GET,
            &format!("/v1/tenants/{tenant}/status"),
            &user.access_token,
        )
        .send()
        .await
        .map_err(|error| error.to_string())?;
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .map(Duration::from_secs);
    let body: Value = response.json().await.map_err(|error| error.to_string())?;
    Ok(Observation {
        ready: body["ready"].as_bool().ok_or("no `ready` in the status")?,
        retry_after,
    })
}

#[tokio::test]
async fn a_pending_workspace_answers_402_until_the_activation_lands_and_the_client_policy_sees_ready()
 {
    let world = TestStack::with_mail().await;
    let owner = world.verified_user().await;
    let tenant = pending_tenant(&world, &owner, "Waiting Room").await;

    let gated = starter_data(&world, &owner, &tenant).await;
    assert_eq!(gated.status(), StatusCode::PAYMENT_REQUIRED);
    // Tenancy's PAYMENT_RETRY_AFTER (default 2 s) is the hint.
    assert_eq!(gated.headers()[RETRY_AFTER], "2");
    let problem: Value = gated.json().await.expect("json");
    assert_eq!(problem["reason"], "PAYMENT_PENDING");
    let (status, waiting) = get(&world, &owner, &format!("/v1/tenants/{tenant}/status")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&waiting["state"], &waiting["ready"], &waiting["gate"]),
        (
            &Value::from("pending_payment"),
            &Value::from(false),
            &Value::from("payment_pending")
        )
    );

    // The client starts polling; the activation arrives once a poll has come back "pending" (counting
    // polls as they start let the activation overtake the first one, which then saw it ready).
    let pending_seen = Notify::new();
    let policy = ReadinessPolicy::default();
    let poll = policy.wait_until_ready(|| async {
        let observation = observe(&world, &owner, &tenant).await;
        if observation.as_ref().is_ok_and(|seen| !seen.ready) {
            // Stores a permit if the activation is not waiting yet, so the signal is never lost.
            pending_seen.notify_one();
        }
        observation
    });
    let activate = async {
        tokio::time::timeout(policy.window, pending_seen.notified())
            .await
            .expect("a poll saw the workspace pending within the policy's window");
        billing_relay(&world)
            .await
            .apply_billing_event(event(&tenant, LifecycleTransition::Activate, 1))
            .await
            .expect("activated")
            .into_inner()
    };
    let (readiness, applied) = tokio::join!(poll, activate);
    assert_eq!(applied.outcome(), BillingEventOutcome::Applied);
    assert!(
        matches!(readiness, Readiness::Ready { polls } if polls >= 2),
        "{readiness:?}"
    );

    let usable = starter_data(&world, &owner, &tenant).await;
    assert_eq!(usable.status(), StatusCode::OK);
    assert!(usable.headers().get(RETRY_AFTER).is_none());
}

#[tokio::test]
async fn duplicate_activation_events_change_nothing() {
    let world = TestStack::with_mail().await;
    let owner = world.verified_user().await;
    let tenant = pending_tenant(&world, &owner, "Twice Paid").await;
    let mut relay = billing_relay(&world).await;
    let activation = event(&tenant, LifecycleTransition::Activate, 1);
    let first = relay
        .apply_billing_event(activation.clone())
        .await
        .expect("applied")
        .into_inner();
    assert_eq!(first.outcome(), BillingEventOutcome::Applied);
    let (_, active) = get(&world, &owner, &format!("/v1/tenants/{tenant}")).await;
    let past_due = relay
        .apply_billing_event(event(&tenant, LifecycleTransition::MarkPastDue, 2))
        .await
        .expect("past due")
        .into_inner();
    assert_eq!(past_due.outcome(), BillingEventOutcome::Applied);

    // The relay delivers the activation again (at-least-once): it must not undo past_due.
    for _ in 0..3 {
        let again = relay
            .apply_billing_event(activation.clone())
            .await
            .expect("duplicate answers OK")
            .into_inner();
        assert_eq!(again.outcome(), BillingEventOutcome::Duplicate);
        assert_eq!(again.state(), pb::TenantState::PastDue);
    }
    let (_, status) = get(&world, &owner, &format!("/v1/tenants/{tenant}/status")).await;
    assert_eq!(status["state"], "past_due");
    let (_, read) = get(&world, &owner, &format!("/v1/tenants/{tenant}")).await;
    assert_eq!(
        read["tenant"]["activated_at"],
        active["tenant"]["activated_at"]
    );
    let mut db = world.connect("tenant-provisioning").await;
    assert_eq!(
        count(&mut db, "select count(*) from billing_events").await,
        2
    );
}

#[tokio::test]
async fn illegal_lifecycle_transitions_are_refused_and_the_workspace_stays_as_it_was() {
    let world = TestStack::with_mail().await;
    let owner = world.verified_user().await;
    let tenant = pending_tenant(&world, &owner, "Strict").await;
    let mut relay = billing_relay(&world).await;
    // Nothing was ever paid: it cannot fall past due or be suspended.
    for (version, transition) in [
        (1, LifecycleTransition::MarkPastDue),
        (2, LifecycleTransition::Suspend),
    ] {
        let refused = relay
            .apply_billing_event(event(&tenant, transition, version))
            .await
            .expect_err("illegal");
        assert_eq!(
            onramp_kit::ApiError::from_status(&refused).code,
            onramp_kit::Code::Conflict,
            "{transition:?}"
        );
    }
    let (_, status) = get(&world, &owner, &format!("/v1/tenants/{tenant}/status")).await;
    assert_eq!(status["state"], "pending_payment");
    let canceled = relay
        .apply_billing_event(event(&tenant, LifecycleTransition::Cancel, 3))
        .await
        .expect("cancel")
        .into_inner();
    assert_eq!(canceled.state(), pb::TenantState::Canceled);
    let refused = relay
        .apply_billing_event(event(&tenant, LifecycleTransition::MarkPastDue, 4))
        .await
        .expect_err("a canceled workspace cannot fall past due");
    assert_eq!(
        onramp_kit::ApiError::from_status(&refused).code,
        onramp_kit::Code::Conflict
    );
    let (_, status) = get(&world, &owner, &format!("/v1/tenants/{tenant}/status")).await;
    assert_eq!(
        (&status["state"], &status["ready"]),
        (&Value::from("canceled"), &Value::from(false))
    );
}
