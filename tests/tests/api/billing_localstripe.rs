//! Stripe-compatible `localstripe` (PyPI; ./tests/run installs it) sends its own signed webhooks to the
//! gateway: a subscription with a trial, then its cancellation, reach billing's mirror and the tenant's
//! entitlement, with the lifecycle effect written to the outbox.

use std::time::Duration;

use onramp_kit::testing::LocalStripe;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{
    poll::eventually,
    stripe::{STRIPE_KEY, stack_with_webhook_secret},
};

async fn wait_for(db: &PgPool, what: &str, sql: &str, bind: &str) {
    eventually(Duration::from_secs(20), async || {
        let found: i64 = sqlx::query_scalar(sql)
            .bind(bind)
            .fetch_one(db)
            .await
            .expect(what);
        (found > 0)
            .then_some(())
            .ok_or(format!("never happened: {what}"))
    })
    .await;
}

#[tokio::test]
async fn localstripes_signed_webhooks_drive_the_mirror_and_the_entitlement() {
    let (app, secret) = stack_with_webhook_secret().await;
    let db = app.pool("billing").await;
    let stripe = LocalStripe::start(STRIPE_KEY).await;
    let hook = app.url("/v1/webhooks/stripe");
    let events = [
        "customer.subscription.created",
        "customer.subscription.deleted",
    ];
    stripe
        .call(
            reqwest::Method::POST,
            "/_config/webhooks/onramp",
            &[
                ("url", hook.as_str()),
                ("secret", secret.as_str()),
                ("events[]", events[0]),
                ("events[]", events[1]),
            ],
        )
        .await;

    let tenant = Uuid::new_v4().to_string();
    let product = stripe
        .call(reqwest::Method::POST, "/v1/products", &[("name", "Pro")])
        .await;
    let plan = format!("plan_{}", &Uuid::new_v4().simple().to_string()[..8]);
    stripe
        .call(
            reqwest::Method::POST,
            "/v1/plans",
            &[
                ("id", &plan),
                ("product", product["id"].as_str().unwrap_or_default()),
                ("amount", "2900"),
                ("currency", "usd"),
                ("interval", "month"),
            ],
        )
        .await;
    let customer = stripe
        .call(
            reqwest::Method::POST,
            "/v1/customers",
            &[("email", "owner@example.com")],
        )
        .await;
    let subscription = stripe
        .call(
            reqwest::Method::POST,
            "/v1/subscriptions",
            &[
                ("customer", customer["id"].as_str().unwrap_or_default()),
                ("items[0][plan]", &plan),
                ("trial_period_days", "14"),
                ("metadata[tenant_id]", &tenant),
            ],
        )
        .await;
    let id = subscription["id"]
        .as_str()
        .expect("subscription id")
        .to_owned();
    let status = subscription["status"].as_str().expect("status").to_owned();

    wait_for(&db, "the created event is applied",
        "select count(*) from stripe_deliveries where outcome = 'applied' and event_type = 'customer.subscription.created' and position($1 in convert_from(payload, 'utf8')) > 0",
        &id).await;
    let mirrored: String =
        sqlx::query_scalar("select status from subscriptions where stripe_subscription_id = $1")
            .bind(&id)
            .fetch_one(&db)
            .await
            .expect("mirrored");
    assert_eq!(mirrored, status, "the mirror holds localstripe's state");

    stripe
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/subscriptions/{id}"),
            &[],
        )
        .await;
    wait_for(&db, "the cancellation reaches the outbox",
        "select count(*) from outbox where tenant_id::text = $1 and payload->>'transition' = 'cancel'", &tenant).await;
    let state: String =
        sqlx::query_scalar("select state from entitlements where tenant_id::text = $1")
            .bind(&tenant)
            .fetch_one(&db)
            .await
            .expect("entitled");
    assert_eq!(state, "canceled");
    let rejected: i64 =
        sqlx::query_scalar("select coalesce(sum(count), 0)::bigint from webhook_rejections")
            .fetch_one(&db)
            .await
            .expect("count");
    assert_eq!(rejected, 0, "every localstripe signature verified");
    db.close().await;
}
