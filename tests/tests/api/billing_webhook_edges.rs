//! Stripe's webhook endpoints at their edges, over real HTTP: the Connect endpoint acts only on
//! connected accounts' events, Stripe's deliveries are not throttled like a browser and a flood of
//! forged ones does not queue on the database, and a Checkout that overtakes its subscription's own
//! (older) events does not make them stale.

use std::time::{Duration, Instant};

use onramp_kit::config::SecretString;
use onramp_stack::StackOptions;
use serde_json::json;
use uuid::Uuid;

use crate::support::{
    TestStack,
    stripe::{Webhooks, new_webhook_secret},
};

/// Stripe's clock in these tests (only order matters).
const T0: i64 = 1_790_000_000;

/// A stack whose billing takes deliveries on both endpoints, signed with `secret` (account) and
/// `connect_secret` (Connect); `adjust` changes anything else.
async fn stack(
    secret: &str,
    connect_secret: &str,
    adjust: impl FnOnce(&mut StackOptions),
) -> TestStack {
    let account = SecretString::from(secret.to_owned());
    let connect = SecretString::from(connect_secret.to_owned());
    TestStack::spawn_with(|options| {
        options.billing_webhook_secrets = vec![account];
        options.billing(move |config: &mut onramp_billing::Config| {
            config.stripe_connect_webhook_secrets = vec![connect.clone()];
        });
        adjust(options);
    })
    .await
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", &Uuid::new_v4().simple().to_string()[..16])
}

fn checkout_completed(event_id: &str, created: i64, subscription: &str, tenant: Uuid) -> String {
    json!({
        "id": event_id, "object": "event", "type": "checkout.session.completed", "created": created,
        "data": {"object": {
            "id": new_id("cs"), "object": "checkout.session", "customer": new_id("cus"),
            "subscription": subscription, "client_reference_id": tenant.to_string(),
            "payment_status": "paid", "mode": "subscription",
        }},
    })
    .to_string()
}

/// A trialing subscription with 5 seats, its trial and period ending at the given times.
fn subscription_created(
    event_id: &str,
    created: i64,
    subscription: &str,
    tenant: Uuid,
    ends: (i64, i64),
) -> String {
    json!({
        "id": event_id, "object": "event", "type": "customer.subscription.created",
        "created": created,
        "data": {"object": {
            "id": subscription, "object": "subscription", "customer": "cus_e2e",
            "status": "trialing", "metadata": {"tenant_id": tenant.to_string()},
            "trial_end": ends.0, "cancel_at_period_end": false,
            "items": {"object": "list", "data": [{
                "price": {"id": "price_e2e"}, "quantity": 5, "current_period_end": ends.1,
            }]},
        }},
    })
    .to_string()
}

#[tokio::test]
async fn the_connect_endpoint_acts_only_on_connected_account_events() {
    let (secret, connect_secret) = (new_webhook_secret(), new_webhook_secret());
    let app = stack(&secret, &connect_secret, |_| {}).await;
    let tenant = Uuid::new_v4();
    let subscription = new_id("sub");
    let connect = Webhooks::new(app.url("/v1/webhooks/stripe/connect"), &connect_secret);
    for body in [
        checkout_completed(&new_id("evt"), T0, &subscription, tenant),
        subscription_created(
            &new_id("evt"),
            T0 + 1,
            &subscription,
            tenant,
            (T0 + 9, T0 + 99),
        ),
    ] {
        connect.expect(&body, "ignored").await;
    }
    let db = app.pool("billing").await;
    let touched: i64 = sqlx::query_scalar(
        "select (select count(*) from subscriptions) + (select count(*) from entitlements)
              + (select count(*) from customers)",
    )
    .fetch_one(&db)
    .await
    .expect("count");
    assert_eq!(touched, 0, "a Connect delivery changed an entitlement");

    // Its own events still apply there.
    let account = json!({
        "id": new_id("evt"), "object": "event", "type": "account.updated", "created": T0,
        "account": "acct_e2e",
        "data": {"object": {"id": "acct_e2e", "object": "account", "details_submitted": true,
            "charges_enabled": true, "payouts_enabled": true}},
    })
    .to_string();
    connect.expect(&account, "applied").await;
    db.close().await;
}

#[tokio::test]
async fn stripe_deliveries_are_not_throttled_per_ip_like_browser_traffic() {
    let (secret, connect_secret) = (new_webhook_secret(), new_webhook_secret());
    let prefix = format!("onramp-test:{}", Uuid::new_v4().simple());
    let app = stack(&secret, &connect_secret, |options| {
        options.gateway(move |config: &mut onramp_gateway::Config| {
            config.edge.rate_limit_key_prefix = prefix.clone();
            config.edge.rate_limit_global = Some("3/1m".parse().expect("limit"));
        });
    })
    .await;
    // Stripe sends every tenant's events from a few addresses: ten from one IP all get through.
    let webhooks = Webhooks::new(app.url("/v1/webhooks/stripe"), &secret);
    for _ in 0..10 {
        let body = subscription_created(
            &new_id("evt"),
            T0,
            &new_id("sub"),
            Uuid::new_v4(),
            (T0 + 9, T0 + 99),
        );
        let (status, ack) = webhooks.deliver(&body).await;
        assert_eq!(status, 200, "{ack}");
    }
    // The browser routes keep their per-client budget.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = app.get("/v1/status").await;
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
}

#[tokio::test]
async fn a_flood_of_forged_deliveries_does_not_queue_on_one_counter_row() {
    let (secret, connect_secret) = (new_webhook_secret(), new_webhook_secret());
    let app = stack(&secret, &connect_secret, |options| {
        options.request_budget = Duration::from_secs(3);
    })
    .await;
    let db = app.pool("billing").await;
    // Whoever writes the rejection counter now waits: as every forged delivery did, one at a time.
    let mut held = db.begin().await.expect("tx");
    sqlx::query("lock table webhook_rejections in exclusive mode")
        .execute(&mut *held)
        .await
        .expect("lock");
    let body = subscription_created(&new_id("evt"), T0, &new_id("sub"), Uuid::new_v4(), (1, 2));
    let forged = Webhooks::new(app.url("/v1/webhooks/stripe"), "whsec_forged");
    let flood: Vec<_> = (0..20)
        .map(|_| {
            let (forged, body) = (forged.clone(), body.clone());
            tokio::spawn(async move { forged.deliver(&body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for delivery in flood {
        answers.push(delivery.await.expect("join"));
    }
    for (status, problem) in &answers {
        assert_eq!(
            (*status, problem["reason"].as_str()),
            (400, Some("WEBHOOK_SIGNATURE_INVALID")),
            "{problem}"
        );
    }
    held.rollback().await.expect("release");
    // Operators still see every rejection, shortly after.
    let started = Instant::now();
    loop {
        let counted: i64 =
            sqlx::query_scalar("select coalesce(sum(count), 0)::bigint from webhook_rejections")
                .fetch_one(&db)
                .await
                .expect("count");
        if counted == 20 {
            break;
        }
        assert!(counted < 20, "counted {counted}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "counted only {counted}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    db.close().await;
}

#[tokio::test]
async fn a_checkout_that_overtakes_its_older_subscription_event_does_not_make_it_stale() {
    let (secret, connect_secret) = (new_webhook_secret(), new_webhook_secret());
    let app = stack(&secret, &connect_secret, |_| {}).await;
    let tenant = Uuid::new_v4();
    let subscription = new_id("sub");
    let webhooks = Webhooks::new(app.url("/v1/webhooks/stripe"), &secret);
    // Stripe created the subscription (T0) before the session completed (T0 + 5), but the session's
    // event is delivered first.
    let checkout = checkout_completed(&new_id("evt"), T0 + 5, &subscription, tenant);
    webhooks.expect(&checkout, "applied").await;
    let (trial_end, period_end) = (T0 + 14 * 86_400, T0 + 14 * 86_400);
    let created = subscription_created(
        &new_id("evt"),
        T0,
        &subscription,
        tenant,
        (trial_end, period_end),
    );
    webhooks.expect(&created, "applied").await;

    let db = app.pool("billing").await;
    let (status, seats, trial, period): (String, i32, Option<i64>, Option<i64>) = sqlx::query_as(
        "select status, seats, extract(epoch from trial_end)::bigint,
                extract(epoch from current_period_end)::bigint
         from subscriptions where stripe_subscription_id = $1",
    )
    .bind(&subscription)
    .fetch_one(&db)
    .await
    .expect("mirrored");
    assert_eq!(
        (status.as_str(), seats, trial, period),
        ("trialing", 5, Some(trial_end), Some(period_end))
    );
    let trial_ends_at: Option<i64> = sqlx::query_scalar(
        "select extract(epoch from trial_ends_at)::bigint from entitlements where tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(&db)
    .await
    .expect("entitlement");
    assert_eq!(trial_ends_at, Some(trial_end));

    // A later event from before the checkout is still judged against the subscription's own events.
    let older = subscription_created(&new_id("evt"), T0 - 1, &subscription, tenant, (1, 2));
    webhooks.expect(&older, "stale").await;
    db.close().await;
}
