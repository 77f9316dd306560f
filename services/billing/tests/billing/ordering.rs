//! Out of order: whatever order one subscription's events arrive in, the mirror ends at Stripe's
//! final state; a tie in `created` is settled by re-reading the subscription from Stripe.

use std::{net::SocketAddr, sync::Arc};

use axum::{Json, Router, extract::Path, http::StatusCode, routing::get};
use onramp_kit::{ApiError, Code};
use onramp_proto::billing::v1::StripeEventOutcome;
use serde_json::json;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::helpers::{
    T0, TestBilling, checkout_completed, stripe_id, subscription_event, use_stripe,
};

fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut all = Vec::new();
    for (i, first) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, *first);
            all.push(tail);
        }
    }
    all
}

/// The lifecycle of one subscription as Stripe emits it; the last event is Stripe's final state.
fn lifecycle(tenant: Uuid, subscription: &str, end: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut events = vec![(
        "checkout".to_owned(),
        checkout_completed(&stripe_id("evt"), T0, subscription, tenant),
    )];
    for (offset, (kind, status)) in end.iter().enumerate() {
        let created = T0 + 10 * (i64::try_from(offset).unwrap_or(0) + 1);
        let id = stripe_id("evt");
        events.push((
            id.clone(),
            subscription_event(&id, kind, created, subscription, status, tenant),
        ));
    }
    events
}

async fn check_every_order(
    app: &TestBilling,
    steps: &[(&str, &str)],
    final_status: &str,
    final_state: &str,
) {
    let indexes: Vec<usize> = (0..=steps.len()).collect();
    for order in permutations(&indexes) {
        let tenant = Uuid::new_v4();
        let subscription = stripe_id("sub");
        let events = lifecycle(tenant, &subscription, steps);
        for index in &order {
            app.deliver(&events[*index].1).await.expect("acknowledged");
        }
        let sql =
            "select status, last_event_id from subscriptions where stripe_subscription_id = $1";
        let (status, last_event): (String, String) = app.row(sql, &subscription).await;
        let sql = "select state from entitlements where tenant_id = $1";
        let state: String = app.value(sql, tenant).await.expect("entitled");
        assert_eq!(status, final_status, "order {order:?}");
        assert_eq!(last_event, events[steps.len()].0, "order {order:?}");
        assert_eq!(state, final_state, "order {order:?}");
    }
}

#[tokio::test]
async fn every_order_of_one_subscriptions_events_ends_at_stripes_state() {
    let app = TestBilling::spawn().await;
    let canceled = [
        ("customer.subscription.created", "active"),
        ("customer.subscription.updated", "past_due"),
        ("customer.subscription.updated", "active"),
        ("customer.subscription.deleted", "canceled"),
    ];
    check_every_order(&app, &canceled, "canceled", "canceled").await;
    let past_due = [
        ("customer.subscription.created", "trialing"),
        ("customer.subscription.updated", "active"),
        ("customer.subscription.updated", "past_due"),
    ];
    check_every_order(&app, &past_due, "past_due", "past_due").await;
    app.stop().await;
}

/// A Stripe-compatible fake answering `GET /v1/subscriptions/{id}` with a settable status (or 503).
async fn fake_stripe(status: Arc<Mutex<Option<String>>>) -> SocketAddr {
    let app = Router::new().route(
        "/v1/subscriptions/{id}",
        get(move |Path(id): Path<String>| {
            let status = status.clone();
            async move {
                match status.lock().await.clone() {
                    Some(status) => Ok(Json(json!({"id": id, "object": "subscription",
                        "customer": "cus_test", "status": status, "metadata": {},
                        "items": {"data": [{"price": {"id": "price_test"}, "quantity": 1}]}}))),
                    None => Err(StatusCode::SERVICE_UNAVAILABLE),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn a_tie_in_created_is_settled_by_stripe() {
    let stripe_status = Arc::new(Mutex::new(None));
    let addr = fake_stripe(stripe_status.clone()).await;
    let app = TestBilling::spawn_with(move |config| {
        use_stripe(
            config,
            &format!("sk_test_{}", Uuid::new_v4().simple()),
            format!("http://{addr}"),
        );
    })
    .await;
    let tenant = Uuid::new_v4();
    let subscription = stripe_id("sub");
    // Two different events that say the same thing at the same second.
    let active_at_t0 = || {
        subscription_event(
            &stripe_id("evt"),
            "customer.subscription.updated",
            T0,
            &subscription,
            "active",
            tenant,
        )
    };
    app.deliver(&active_at_t0()).await.expect("first");
    let tie = active_at_t0();

    // Stripe unreachable: nothing applied, the event stays unclaimed so Stripe's retry can apply it.
    let status = app.deliver(&tie).await.expect_err("re-read failed");
    assert_eq!(ApiError::from_status(&status).code, Code::StripeUnavailable);
    assert_eq!(app.count("select count(*) from stripe_events").await, 1);

    *stripe_status.lock().await = Some("unpaid".to_owned());
    let outcome = app.deliver(&tie).await.expect("applied").outcome;
    assert_eq!(outcome, StripeEventOutcome::Applied as i32);
    let status: String =
        sqlx::query_scalar("select status from subscriptions where stripe_subscription_id = $1")
            .bind(&subscription)
            .fetch_one(&app.db)
            .await
            .expect("mirrored");
    assert_eq!(status, "unpaid", "Stripe's state, not the event's");
    let state: String = sqlx::query_scalar("select state from entitlements where tenant_id = $1")
        .bind(tenant)
        .fetch_one(&app.db)
        .await
        .expect("entitled");
    assert_eq!(state, "suspended");
    app.stop().await;
}
