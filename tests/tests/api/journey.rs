//! The whole self-serve journey over HTTP, as a browser and as Stripe would, with a paid plan:
//! signup → verify from the mail → login → workspace (idempotency key) → Checkout → back before the
//! webhook (402 + Retry-After) → the shipped retry policy waits while Stripe's signed webhooks arrive
//! (one duplicate, one out of order) → ready in the same session → checklist → a teammate joins →
//! two seats used → Connect onboarding survives one Stripe failure. One trace id spans each request
//! across the services it touches.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Notify;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use crate::support::journey_team::{assert_span, team_and_payouts};
use crate::support::{
    journey::{Journey, Provider, traceparent},
    stripe::{Webhooks, event},
};
use onramp_tenant_provisioning::client::Readiness;

const CHECKOUT_URL: &str = "https://checkout.stripe.test/c/pay/cs_test_journey";

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {form:?}"))
}

#[tokio::test]
async fn a_paid_signup_reaches_a_ready_workspace_in_one_session_and_onboards_a_team() {
    let journey = Journey::spawn(Provider::Stripe).await;
    let price = journey.sell_pro_at_stripe().await;
    let stripe = journey.stripe();
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "cs_test_journey", "object": "checkout.session", "url": CHECKOUT_URL,
            "expires_at": chrono::Utc::now().timestamp() + 3600,
        })))
        .mount(&stripe.mock)
        .await;

    // Signup → the link in the captured mail → login.
    let owner = journey.world.verified_user().await;

    // The workspace, once per idempotency key, with the browser's trace.
    let key = uuid::Uuid::new_v4().to_string();
    let (provision_trace, provision_trace_id) = traceparent();
    let created = journey
        .provision(&owner, &key, Some(&provision_trace))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["x-trace-id"], provision_trace_id.as_str());
    let created: Value = created.json().await.expect("json");
    let tenant = created["tenant"]["id"].as_str().expect("id").to_owned();
    assert_eq!(created["tenant"]["state"], "pending_payment", "{created}");
    let replay = journey.provision(&owner, &key, None).await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay: Value = replay.json().await.expect("json");
    assert_eq!(
        replay["tenant"]["id"],
        tenant.as_str(),
        "one key, one tenant"
    );
    for (service, rpc) in [
        ("gateway", "POST /v1/tenants"),
        ("tenant-provisioning", "ProvisionTenant"),
        ("billing", "EnsureEntitlement"),
    ] {
        assert_span(&provision_trace_id, service, rpc).await;
    }

    // A paid plan from the public list, bought in Checkout.
    let plans = journey.get_json(&owner, "/v1/plans/public").await;
    assert_eq!(plans["provider"], "stripe");
    assert!(
        plans["plans"]
            .as_array()
            .expect("plans")
            .iter()
            .any(|p| p["code"] == "pro")
    );
    let (checkout_trace, checkout_trace_id) = traceparent();
    let (status, checkout) = journey
        .post_traced(
            &owner,
            "/v1/billing/checkout",
            json!({"tenant_id": tenant, "plan_id": "pro", "seats": 1,
                   "success_url": "http://localhost:8080/billing/success",
                   "cancel_url": "http://localhost:8080/billing/cancel"}),
            Some(&checkout_trace),
        )
        .await;
    assert_eq!(status, 200, "{checkout}");
    for (service, rpc) in [
        ("gateway", "POST /v1/billing/checkout"),
        ("billing", "CreateCheckoutSession"),
        ("tenant-provisioning", "CheckMembership"),
    ] {
        assert_span(&checkout_trace_id, service, rpc).await;
    }
    assert_eq!(checkout["checkout_url"], CHECKOUT_URL);
    let sold = stripe.last_form("/v1/checkout/sessions").await;
    assert_eq!(field(&sold, "line_items[0][price]"), price);
    assert_eq!(field(&sold, "client_reference_id"), tenant);
    let customer = field(&sold, "customer").to_owned();
    let plan_id = field(&sold, "subscription_data[metadata][plan_id]").to_owned();

    // Back from Checkout before Stripe's webhook: the workspace is not usable yet.
    journey.assert_payment_pending(&owner, &tenant).await;

    // The client waits with the shipped policy; Stripe finishes only once it has seen "pending".
    let first_pending = Arc::new(Notify::new());
    let (webhook_trace, webhook_trace_id) = traceparent();
    let stripe_side = async {
        first_pending.notified().await;
        let localstripe = &stripe.localstripe;
        let card = localstripe
            .call(
                Method::POST,
                "/v1/tokens",
                &[
                    ("card[number]", "4242424242424242"),
                    ("card[exp_month]", "12"),
                    ("card[exp_year]", "2034"),
                    ("card[cvc]", "123"),
                ],
            )
            .await;
        let source = card["id"].as_str().expect("token");
        localstripe
            .call(
                Method::POST,
                &format!("/v1/customers/{customer}/sources"),
                &[("source", source)],
            )
            .await;
        let subscription = localstripe
            .call(
                Method::POST,
                "/v1/subscriptions",
                &[
                    ("customer", customer.as_str()),
                    ("items[0][plan]", price.as_str()),
                    ("items[0][quantity]", "1"),
                    ("metadata[tenant_id]", tenant.as_str()),
                    ("metadata[plan_id]", plan_id.as_str()),
                ],
            )
            .await;
        assert_eq!(subscription["status"], "active", "{subscription}");
        let mut incomplete = subscription.clone();
        incomplete["status"] = json!("incomplete");
        let session = json!({
            "id": "cs_test_journey", "object": "checkout.session", "mode": "subscription",
            "status": "complete", "payment_status": "paid", "customer": customer,
            "subscription": subscription["id"], "client_reference_id": tenant,
            "metadata": {"tenant_id": tenant, "plan_id": plan_id},
        });
        let now = chrono::Utc::now().timestamp();
        let updated = event("customer.subscription.updated", now, &subscription);
        let completed = event("checkout.session.completed", now - 1, &session);
        let stale = event("customer.subscription.created", now - 2, &incomplete);
        let hooks = Webhooks::new(journey.url("/v1/webhooks/stripe"), &journey.webhook_secret);
        let mut outcomes = Vec::new();
        // The newest state first, then its duplicate, then two older events out of order.
        for (body, trace) in [
            (&updated, Some(webhook_trace.as_str())),
            (&updated, None),
            (&completed, None),
            (&stale, None),
        ] {
            let (status, ack) = hooks.deliver_traced(body, trace).await;
            outcomes.push((
                status,
                ack["outcome"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        outcomes
    };
    let (readiness, outcomes) = tokio::join!(
        journey.wait_until_ready(&owner, &tenant, first_pending.clone()),
        stripe_side
    );
    let outcomes: Vec<(u16, &str)> = outcomes.iter().map(|(s, o)| (*s, o.as_str())).collect();
    assert_eq!(
        outcomes,
        [
            (200, "applied"),
            (200, "duplicate"),
            (200, "applied"),
            (200, "stale")
        ]
    );
    assert!(
        matches!(readiness, Readiness::Ready { polls } if polls >= 2),
        "{readiness:?}"
    );
    for (service, rpc) in [
        ("gateway", "POST /v1/webhooks/stripe"),
        ("billing", "HandleStripeWebhook"),
    ] {
        assert_span(&webhook_trace_id, service, rpc).await;
    }

    // Active in the same session; the stale event did not undo the payment.
    let read = journey
        .get_json(&owner, &format!("/v1/tenants/{tenant}"))
        .await;
    assert_eq!(read["tenant"]["state"], "active", "{read}");
    journey
        .get_json(&owner, &format!("/v1/tenants/{tenant}/starter-data"))
        .await;
    let summary = journey
        .get_json(
            &owner,
            &format!("/v1/billing/subscription?tenant_id={tenant}"),
        )
        .await;
    assert_eq!(summary["status"], "active", "{summary}");
    assert_eq!(summary["plan"]["code"], "pro", "{summary}");

    team_and_payouts(&journey, &owner, &tenant, true).await;
}
