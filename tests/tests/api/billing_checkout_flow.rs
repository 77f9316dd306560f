//! The paid signup journey over real HTTP: a verified owner provisions a workspace on a paid plan, opens
//! Checkout, Stripe's signed webhooks arrive (out of order and twice), and the workspace becomes active
//! with no client action; later a failed renewal makes it past due and a deleted subscription cancels
//! it, every effect reaching tenancy through billing's outbox.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    billing::{
        add_plan, paid_plan, provision, stripe_world, subscription, tenant_status, wait_for_state,
    },
    stripe::{LocalStripeCalls as _, StripeFake, Webhooks, event, new_webhook_secret},
};

fn with_status(object: &Value, status: &str) -> Value {
    let mut object = object.clone();
    object["status"] = json!(status);
    object
}

#[tokio::test]
async fn checkout_and_webhooks_activate_the_workspace_then_past_due_then_canceled() {
    let fake = StripeFake::start().await;
    let secret = new_webhook_secret();
    let world = stripe_world(&fake, &secret).await;
    let price = fake.localstripe.create_price(4900).await;
    add_plan(&world, paid_plan("team", &price, 5)).await;
    let owner = world.verified_user().await;

    let provisioned = provision(&world, &owner, "Acme Rockets", "team").await;
    let tenant = provisioned["tenant"]["id"]
        .as_str()
        .expect("tenant id")
        .to_owned();
    assert_eq!(provisioned["status"]["state"], "pending_payment");
    assert_eq!(
        tenant_status(&world, &owner, &tenant).await["gate"],
        "payment_pending"
    );

    let checkout = json!({"tenant_id": tenant, "plan_id": "team", "seats": 2});
    let (status, answer) = world
        .post_as(&owner, "/v1/billing/checkout", checkout.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let url = answer["checkout_url"].as_str().expect("checkout url");
    let sessions = fake.sessions();
    assert_eq!(url, sessions[0].url);
    let session = &sessions[0];
    assert_eq!(session.field("client_reference_id"), tenant);
    assert_eq!(session.field("line_items[0][price]"), price);
    assert_eq!(session.field("line_items[0][quantity]"), "2");
    assert_eq!(
        session.field("subscription_data[metadata][tenant_id]"),
        tenant
    );
    assert!(
        session.idempotency_key.is_some(),
        "Checkout is created idempotently"
    );
    // The browser comes back and asks again: the tenant keeps its one customer.
    let (status, _) = world
        .post_as(&owner, "/v1/billing/checkout", checkout)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        fake.sessions()[1].field("customer"),
        session.field("customer")
    );

    let paid = fake.complete_checkout(session).await;
    assert_eq!(
        paid.subscription["status"], "active",
        "{}",
        paid.subscription
    );
    let hooks = Webhooks::new(world.url("/v1/webhooks/stripe"), &secret);
    let t0 = chrono::Utc::now().timestamp() - 120;
    let completed = event("checkout.session.completed", t0, &paid.session);
    let created = event(
        "customer.subscription.created",
        t0 + 1,
        &with_status(&paid.subscription, "incomplete"),
    );
    let updated = event("customer.subscription.updated", t0 + 2, &paid.subscription);
    let invoice_paid = event("invoice.paid", t0 + 3, &paid.invoice);

    // Out of order: the newest subscription state first; the older `created` is then stale and must
    // not pull the subscription back to `incomplete`.
    hooks.expect(&updated, "applied").await;
    hooks.expect(&created, "stale").await;
    hooks.expect(&completed, "applied").await;
    // The same delivery three times at once, then once more: applied exactly once.
    let concurrent = futures::future::join_all((0..3).map(|_| hooks.deliver(&invoice_paid))).await;
    let mut outcomes: Vec<&str> = concurrent
        .iter()
        .map(|(status, answer)| {
            assert_eq!(*status, 200, "{answer}");
            answer["outcome"].as_str().unwrap_or_default()
        })
        .collect();
    outcomes.sort_unstable();
    assert_eq!(outcomes, ["applied", "duplicate", "duplicate"]);
    hooks.expect(&updated, "duplicate").await;

    wait_for_state(&world, &owner, &tenant, "active").await;
    let (status, summary) = subscription(&world, &owner, &tenant).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["status"], "active", "{summary}");
    assert_eq!(summary["trial_state"], "paid");
    assert_eq!(summary["plan"]["code"], "team");
    assert_eq!(summary["seats"], 2);
    assert_eq!(summary["has_billing_account"], true);

    // A renewal fails: past due, through tenancy.
    let failed = event("invoice.payment_failed", t0 + 10, &paid.invoice);
    hooks.expect(&failed, "applied").await;
    wait_for_state(&world, &owner, &tenant, "past_due").await;
    let (_, summary) = subscription(&world, &owner, &tenant).await;
    assert_eq!(summary["trial_state"], "past_due", "{summary}");

    // The subscription is deleted at Stripe: canceled, through tenancy.
    let canceled = fake
        .localstripe
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/subscriptions/{}", paid.subscription_id()),
            &[],
        )
        .await;
    assert_eq!(canceled["status"], "canceled", "{canceled}");
    let deleted = event("customer.subscription.deleted", t0 + 20, &canceled);
    hooks.expect(&deleted, "applied").await;
    wait_for_state(&world, &owner, &tenant, "canceled").await;
}
