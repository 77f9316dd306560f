//! Exactly once: duplicates (sequential and concurrent) change nothing, a failing handler rolls back
//! and a redelivery applies it, and every delivery is kept for replay.

use onramp_kit::{ApiError, Code};
use onramp_proto::billing::v1::{
    EntitlementState, GetEntitlementRequest, ReplayStripeEventRequest, StripeEventOutcome,
};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{
    T0, TestBilling, assert_invalid, caller, checkout_completed, new_subscription, stripe_id,
    subscription_event,
};

const APPLIED: i32 = StripeEventOutcome::Applied as i32;
const DUPLICATE: i32 = StripeEventOutcome::Duplicate as i32;

async fn entitlement_state(app: &TestBilling, tenant: Uuid) -> EntitlementState {
    let response = app
        .client
        .clone()
        .get_entitlement(GetEntitlementRequest {
            tenant_id: tenant.to_string(),
        })
        .await
        .expect("entitlement")
        .into_inner();
    response.entitlement.expect("set").state()
}

#[tokio::test]
async fn checkout_completed_activates_the_tenant_through_the_outbox() {
    let app = TestBilling::spawn().await;
    let tenant = Uuid::new_v4();
    let subscription = stripe_id("sub");
    let event = checkout_completed(&stripe_id("evt"), T0, &subscription, tenant);
    assert_eq!(app.deliver(&event).await.expect("applied").outcome, APPLIED);
    assert_eq!(
        entitlement_state(&app, tenant).await,
        EntitlementState::Active
    );
    let sql = "select topic, payload from outbox where tenant_id = $1";
    let row: (String, serde_json::Value) = app.row(sql, tenant).await;
    assert_eq!(row.0, "tenancy.apply_billing_event");
    assert_eq!(row.1["transition"], "activate");
    assert_eq!(row.1["billing_version"], 1);
    assert_eq!(app.count("select count(*) from customers").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn the_same_event_three_times_is_applied_once() {
    let app = TestBilling::spawn().await;
    let tenant = Uuid::new_v4();
    let event = new_subscription(&stripe_id("evt"), tenant);
    let outcomes = [
        app.deliver(&event).await.expect("first").outcome,
        app.deliver(&event).await.expect("second").outcome,
        app.deliver(&event).await.expect("third").outcome,
    ];
    assert_eq!(outcomes, [APPLIED, DUPLICATE, DUPLICATE]);
    assert_eq!(app.count("select count(*) from outbox").await, 1);
    assert_eq!(app.count("select count(*) from stripe_events").await, 1);
    assert_eq!(app.count("select count(*) from stripe_deliveries").await, 3);
    assert_eq!(app.count("select max(version) from entitlements").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_duplicates_are_applied_once() {
    let app = TestBilling::spawn().await;
    let tenant = Uuid::new_v4();
    let event = subscription_event(
        &stripe_id("evt"),
        "customer.subscription.created",
        T0,
        &stripe_id("sub"),
        "trialing",
        tenant,
    );
    let deliveries = (0..8).map(|_| app.deliver(&event));
    let outcomes: Vec<i32> = futures::future::join_all(deliveries)
        .await
        .into_iter()
        .map(|result| result.expect("delivered").outcome)
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == APPLIED).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| **o == DUPLICATE).count(),
        7,
        "{outcomes:?}"
    );
    assert_eq!(app.count("select count(*) from outbox").await, 1);
    assert_eq!(app.count("select count(*) from stripe_deliveries").await, 8);
    app.stop().await;
}

#[tokio::test]
async fn a_failing_handler_rolls_back_and_the_redelivery_applies_it() {
    let app = TestBilling::spawn().await;
    // A real failure inside the handler's transaction: the mirror table refuses writes.
    app.inject_failure(
        "create function refuse() returns trigger language plpgsql as
             $$ begin raise exception 'injected failure'; end $$;
         create trigger refuse before insert or update on subscriptions
             for each row execute function refuse();",
    )
    .await;
    let tenant = Uuid::new_v4();
    let event_id = stripe_id("evt");
    let event = new_subscription(&event_id, tenant);
    let status = app.deliver(&event).await.expect_err("the handler fails");
    assert_eq!(ApiError::from_status(&status).code, Code::Internal);
    assert_eq!(
        app.count("select count(*) from stripe_events").await,
        0,
        "not claimed"
    );
    assert_eq!(app.count("select count(*) from outbox").await, 0);
    assert_eq!(app.count("select count(*) from entitlements").await, 0);
    assert_eq!(
        app.count("select count(*) from stripe_deliveries where outcome = 'failed'")
            .await,
        1,
        "the failed delivery is kept"
    );

    app.inject_failure("drop trigger refuse on subscriptions")
        .await;
    assert_eq!(
        app.deliver(&event).await.expect("redelivery").outcome,
        APPLIED
    );
    assert_eq!(
        entitlement_state(&app, tenant).await,
        EntitlementState::Active
    );
    assert_eq!(app.count("select count(*) from outbox").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_signed_body_that_is_not_an_event_is_a_bad_request() {
    let app = TestBilling::spawn().await;
    let status = app
        .deliver(r#"{"hello":"world"}"#)
        .await
        .expect_err("not an event");
    assert_invalid(&status, "payload");
    app.stop().await;
}

#[tokio::test]
async fn unknown_event_types_are_claimed_and_ignored() {
    let app = TestBilling::spawn().await;
    let event = json!({"id": stripe_id("evt"), "object": "event", "type": "charge.refunded",
        "created": T0, "data": {"object": {"id": "ch_1"}}})
    .to_string();
    let outcome = app.deliver(&event).await.expect("acknowledged").outcome;
    assert_eq!(outcome, StripeEventOutcome::Ignored as i32);
    assert_eq!(
        app.count("select count(*) from stripe_events where outcome = 'ignored'")
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn operators_replay_stored_events_and_the_guard_keeps_newer_state() {
    let (app, operator) = TestBilling::with_operator(|_| {}).await;
    let tenant = Uuid::new_v4();
    let subscription = stripe_id("sub");
    let older = stripe_id("evt");
    app.deliver(&subscription_event(
        &older,
        "customer.subscription.created",
        T0,
        &subscription,
        "active",
        tenant,
    ))
    .await
    .expect("older");
    app.deliver(&subscription_event(
        &stripe_id("evt"),
        "customer.subscription.deleted",
        T0 + 60,
        &subscription,
        "canceled",
        tenant,
    ))
    .await
    .expect("newer");
    let denied = app
        .client
        .clone()
        .replay_stripe_event(ReplayStripeEventRequest {
            caller: caller(&Uuid::new_v4().to_string()),
            event_id: older.clone(),
        })
        .await
        .expect_err("not an operator");
    assert_eq!(ApiError::from_status(&denied).code, Code::PermissionDenied);

    let replay = app
        .client
        .clone()
        .replay_stripe_event(ReplayStripeEventRequest {
            caller: caller(&operator),
            event_id: older.clone(),
        })
        .await
        .expect("replayed")
        .into_inner();
    assert_eq!(replay.outcome, StripeEventOutcome::Stale as i32);
    assert_eq!(replay.event.expect("event").deliveries, 1);
    assert_eq!(
        entitlement_state(&app, tenant).await,
        EntitlementState::Canceled
    );

    let missing = app
        .client
        .clone()
        .replay_stripe_event(ReplayStripeEventRequest {
            caller: caller(&operator),
            event_id: stripe_id("evt"),
        })
        .await
        .expect_err("never stored");
    assert_eq!(ApiError::from_status(&missing).code, Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn account_updated_is_relayed_to_onboarding_through_the_outbox() {
    let app = TestBilling::spawn().await;
    let account = stripe_id("acct");
    let event = json!({"id": stripe_id("evt"), "object": "event", "type": "account.updated",
        "created": T0, "account": account,
        "data": {"object": {"id": account, "object": "account", "details_submitted": true,
            "charges_enabled": true, "payouts_enabled": false,
            "requirements": {"currently_due": ["external_account"], "past_due": [],
                "pending_verification": [], "disabled_reason": null}}}})
    .to_string();
    assert_eq!(app.deliver(&event).await.expect("applied").outcome, APPLIED);
    let payload: serde_json::Value = sqlx::query_scalar(
        "select payload from outbox where topic = 'onboarding.apply_connect_account_update'",
    )
    .fetch_one(&app.db)
    .await
    .expect("one onboarding row");
    assert_eq!(payload["stripe_account_id"], account);
    assert_eq!(
        payload["requirements"]["currently_due"][0],
        "external_account"
    );
    app.stop().await;
}

#[tokio::test]
async fn operators_list_stored_events_including_failed_ones() {
    use onramp_proto::{billing::v1::ListStripeEventsRequest, common::v1::PageRequest};
    let (app, operator) = TestBilling::with_operator(|_| {}).await;
    for _ in 0..3 {
        app.deliver(&new_subscription(&stripe_id("evt"), Uuid::new_v4()))
            .await
            .expect("applied");
    }
    let not_json =
        json!({"id": stripe_id("evt"), "object": "event", "type": "customer.subscription.updated",
        "created": T0, "data": {"object": {"id": "sub_x", "status": "no-such-status"}}})
        .to_string();
    app.deliver(&not_json)
        .await
        .expect_err("handler refuses the object");
    let list = |outcome: StripeEventOutcome, token: &str| {
        let request = ListStripeEventsRequest {
            caller: caller(&operator),
            outcome: outcome as i32,
            event_type: String::new(),
            page: Some(PageRequest {
                page_size: 2,
                page_token: token.to_owned(),
            }),
        };
        let mut client = app.client.clone();
        async move {
            client
                .list_stripe_events(request)
                .await
                .expect("listed")
                .into_inner()
        }
    };
    let first = list(StripeEventOutcome::Unspecified, "").await;
    assert_eq!(first.events.len(), 2);
    let token = first.page.expect("page").next_page_token;
    let second = list(StripeEventOutcome::Unspecified, &token).await;
    assert_eq!(second.events.len(), 2);
    assert!(second.page.expect("page").next_page_token.is_empty());
    let failed = list(StripeEventOutcome::Failed, "").await;
    assert_eq!(failed.events.len(), 1);
    assert!(!failed.events[0].last_error.is_empty());
    app.stop().await;
}
