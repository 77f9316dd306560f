//! Reconciliation's repair carries the time Stripe was read, not the time it was written: events
//! that Stripe created after the read win over it, whether they land before the repair is written
//! or after.

use std::{sync::Arc, time::Duration};

use axum::{Json, Router, extract::State, routing::get};
use chrono::{DateTime, Utc};
use onramp_proto::billing::v1::ReconcileWithStripeRequest;
use serde_json::{Value, json};
use tokio::sync::{Mutex, Notify};
use uuid::Uuid;

use crate::helpers::{TestBilling, caller, eventually, stripe_id, subscription_event, use_stripe};

/// A Stripe whose subscription list answers only when the test releases it, so the test can act
/// between reconciliation's read and its write.
#[derive(Default)]
struct HeldStripe {
    subscriptions: Mutex<Vec<Value>>,
    read_at: Mutex<Option<DateTime<Utc>>>,
    released: Notify,
}

async fn list(State(stripe): State<Arc<HeldStripe>>) -> Json<Value> {
    *stripe.read_at.lock().await = Some(Utc::now());
    let data = stripe.subscriptions.lock().await.clone();
    stripe.released.notified().await;
    Json(json!({"object": "list", "data": data, "has_more": false}))
}

impl HeldStripe {
    async fn start() -> (Arc<Self>, String) {
        let stripe = Arc::new(Self::default());
        let app = Router::new()
            .route("/v1/subscriptions", get(list))
            .with_state(stripe.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (stripe, base)
    }
}

/// Stripe's view of a subscription of `tenant`.
fn stripe_subscription(id: &str, status: &str, tenant: Uuid) -> Value {
    json!({
        "id": id, "object": "subscription", "customer": "cus_test", "status": status,
        "metadata": {"tenant_id": tenant.to_string()}, "cancel_at_period_end": false,
        "items": {"object": "list", "data": [{"price": {"id": "price_test"}, "quantity": 3}]},
    })
}

async fn mirrored(app: &TestBilling, subscription: &str) -> (String, DateTime<Utc>) {
    let sql =
        "select status, last_event_created from subscriptions where stripe_subscription_id = $1";
    app.row(sql, subscription).await
}

#[tokio::test]
async fn a_repair_is_versioned_with_the_time_stripe_was_read() {
    let (stripe, base) = HeldStripe::start().await;
    let (app, operator) = TestBilling::with_operator(move |config| {
        use_stripe(config, "sk_test_held", base);
        config.reconcile_interval = Duration::ZERO;
    })
    .await;
    let now = Utc::now().timestamp();
    let (tenant_a, tenant_b) = (Uuid::new_v4(), Uuid::new_v4());
    let (a, b) = (stripe_id("sub"), stripe_id("sub"));
    for (subscription, tenant) in [(&a, tenant_a), (&b, tenant_b)] {
        let event = subscription_event(
            &stripe_id("evt"),
            "customer.subscription.created",
            now - 100,
            subscription,
            "active",
            tenant,
        );
        app.deliver(&event).await.expect("mirrored");
    }
    // When reconciliation reads Stripe, both are past due there.
    *stripe.subscriptions.lock().await = vec![
        stripe_subscription(&a, "past_due", tenant_a),
        stripe_subscription(&b, "past_due", tenant_b),
    ];
    let mut client = app.client.clone();
    let run = tokio::spawn(async move {
        client
            .reconcile_with_stripe(ReconcileWithStripeRequest {
                caller: caller(&operator),
                dry_run: false,
                tenant_id: String::new(),
            })
            .await
    });
    eventually("reconciliation reads Stripe", || async {
        stripe.read_at.lock().await.is_some()
    })
    .await;
    let read_at = stripe.read_at.lock().await.expect("read");
    // After the read, A is canceled at Stripe, and its event arrives before the repair is written.
    let canceled = subscription_event(
        &stripe_id("evt"),
        "customer.subscription.deleted",
        read_at.timestamp() + 1,
        &a,
        "canceled",
        tenant_a,
    );
    let outcome = app.deliver(&canceled).await.expect("applied").outcome;
    assert_eq!(outcome, 1, "applied");
    // The repair is written more than a second after the read.
    eventually("a second passes after the read", || async {
        Utc::now() > read_at + chrono::Duration::milliseconds(1_500)
    })
    .await;
    stripe.released.notify_one();
    run.await.expect("join").expect("reconciled");

    let (status, _) = mirrored(&app, &a).await;
    assert_eq!(status, "canceled", "the older read overwrote a newer event");
    let (status, version) = mirrored(&app, &b).await;
    assert_eq!(status, "past_due", "B is repaired");
    assert!(
        version <= read_at,
        "repair versioned {version}, read at {read_at}"
    );
    // An event Stripe created after the read (but before the write) is not stale against it.
    let after_read = subscription_event(
        &stripe_id("evt"),
        "customer.subscription.updated",
        read_at.timestamp() + 1,
        &b,
        "active",
        tenant_b,
    );
    let outcome = app.deliver(&after_read).await.expect("applied").outcome;
    assert_eq!(outcome, 1, "applied, not stale");
    assert_eq!(mirrored(&app, &b).await.0, "active");
    app.stop().await;
}
