//! A tenant with several subscriptions (an upgrade through a second Checkout while the old one
//! lapses): the live one decides the entitlement, whatever order the events for the two arrive in;
//! and a subscription that never went live leaves a card-less trial alone.

use onramp_proto::billing::v1::EnsureEntitlementRequest;
use uuid::Uuid;

use crate::helpers::{T0, TestBilling, stripe_id, subscription_event};

async fn entitlement(app: &TestBilling, tenant: Uuid) -> (String, String) {
    sqlx::query_as("select state, source from entitlements where tenant_id = $1")
        .bind(tenant)
        .fetch_one(&app.db)
        .await
        .expect("entitlement")
}

async fn deliver(
    app: &TestBilling,
    kind: &str,
    created: i64,
    sub: &str,
    status: &str,
    tenant: Uuid,
) {
    let event = subscription_event(&stripe_id("evt"), kind, created, sub, status, tenant);
    app.deliver(&event).await.expect("applied");
}

#[tokio::test]
async fn a_lapsing_old_subscription_never_cancels_the_live_new_one() {
    let app = TestBilling::spawn().await;
    let tenant = Uuid::new_v4();
    let (old, new) = (stripe_id("sub"), stripe_id("sub"));
    deliver(
        &app,
        "customer.subscription.created",
        T0,
        &old,
        "active",
        tenant,
    )
    .await;
    deliver(
        &app,
        "customer.subscription.created",
        T0 + 10,
        &new,
        "active",
        tenant,
    )
    .await;
    deliver(
        &app,
        "customer.subscription.deleted",
        T0 + 20,
        &old,
        "canceled",
        tenant,
    )
    .await;
    assert_eq!(entitlement(&app, tenant).await.0, "active");
    // A late, older update of the old one changes nothing either.
    deliver(
        &app,
        "customer.subscription.updated",
        T0 + 15,
        &old,
        "past_due",
        tenant,
    )
    .await;
    assert_eq!(entitlement(&app, tenant).await.0, "active");
    let cancels = app
        .count(&format!(
            "select count(*) from outbox where tenant_id = '{tenant}' and payload->>'transition' in ('cancel', 'mark_past_due')"
        ))
        .await;
    assert_eq!(cancels, 0, "tenancy was never told to cancel");

    deliver(
        &app,
        "customer.subscription.deleted",
        T0 + 30,
        &new,
        "canceled",
        tenant,
    )
    .await;
    assert_eq!(entitlement(&app, tenant).await.0, "canceled");
    app.stop().await;
}

#[tokio::test]
async fn an_unpaid_checkout_leaves_a_card_less_trial_running() {
    let app = TestBilling::spawn().await;
    let tenant = Uuid::new_v4();
    app.client
        .clone()
        .ensure_entitlement(EnsureEntitlementRequest {
            tenant_id: tenant.to_string(),
            plan_id: "pro".to_owned(),
            owner_user_id: Uuid::new_v4().to_string(),
        })
        .await
        .expect("trial started");
    assert_eq!(
        entitlement(&app, tenant).await,
        ("active".to_owned(), "trial_without_card".to_owned())
    );
    let sub = stripe_id("sub");
    deliver(
        &app,
        "customer.subscription.created",
        T0,
        &sub,
        "incomplete",
        tenant,
    )
    .await;
    assert_eq!(
        entitlement(&app, tenant).await,
        ("active".to_owned(), "trial_without_card".to_owned()),
        "the trial is not replaced by a payment that has not happened"
    );
    deliver(
        &app,
        "customer.subscription.updated",
        T0 + 5,
        &sub,
        "active",
        tenant,
    )
    .await;
    assert_eq!(
        entitlement(&app, tenant).await,
        ("active".to_owned(), "stripe_subscription".to_owned())
    );
    app.stop().await;
}
