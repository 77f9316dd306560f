//! The raw delivery log under one transaction per delivery: the log row commits with the claim and
//! the handler's effects, or — when anything in that transaction fails, the log row's own insert
//! included — the whole of it rolls back and the delivery is logged once, as `failed` with its error,
//! on its own. Event types billing does nothing with take a one-statement path of their own.

use onramp_kit::{ApiError, Code};
use onramp_proto::billing::v1::StripeEventOutcome;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{T0, TestBilling, new_subscription, stripe_id, subscription_event};

const APPLIED: i32 = StripeEventOutcome::Applied as i32;
const DUPLICATE: i32 = StripeEventOutcome::Duplicate as i32;
const IGNORED: i32 = StripeEventOutcome::Ignored as i32;
const STALE: i32 = StripeEventOutcome::Stale as i32;

/// The outcomes and errors logged for `event_id`, oldest first.
async fn logged(app: &TestBilling, event_id: &str) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "select outcome, error from stripe_deliveries where event_id = $1 order by received_at, id",
    )
    .bind(event_id)
    .fetch_all(&app.db)
    .await
    .expect("deliveries")
}

async fn claim_outcome(app: &TestBilling, event_id: &str) -> Option<String> {
    app.value(
        "select outcome from stripe_events where event_id = $1",
        event_id,
    )
    .await
}

#[tokio::test]
async fn a_delivery_whose_log_row_cannot_be_written_is_not_acknowledged_and_nothing_of_it_stays() {
    let app = TestBilling::spawn().await;
    // The log row is written with the claim, inside the delivery's transaction: refuse it (but not
    // the failure record written after the rollback), and nothing of the delivery may stay.
    app.inject_failure(
        "create function refuse_log() returns trigger language plpgsql as
             $$ begin if new.outcome <> 'failed' then raise exception 'log refused'; end if;
                return new; end $$;
         create trigger refuse_log before insert on stripe_deliveries
             for each row execute function refuse_log();",
    )
    .await;
    let tenant = Uuid::new_v4();
    let event_id = stripe_id("evt");
    let event = new_subscription(&event_id, tenant);
    let status = app.deliver(&event).await.expect_err("not acknowledged");
    assert_eq!(ApiError::from_status(&status).code, Code::Internal);
    assert_eq!(claim_outcome(&app, &event_id).await, None, "not claimed");
    assert_eq!(app.count("select count(*) from subscriptions").await, 0);
    assert_eq!(app.count("select count(*) from entitlements").await, 0);
    assert_eq!(app.count("select count(*) from outbox").await, 0);
    let log = logged(&app, &event_id).await;
    assert_eq!(log.len(), 1, "logged once: {log:?}");
    assert_eq!(log[0].0, "failed");
    assert!(
        log[0].1.as_deref().is_some_and(|e| !e.is_empty()),
        "the failure says why: {log:?}"
    );
    let sql = "select payload from stripe_deliveries where event_id = $1";
    let payload: Vec<u8> = app.value(sql, &event_id).await.expect("payload");
    assert_eq!(
        payload,
        event.as_bytes(),
        "the raw body is kept byte for byte"
    );

    app.inject_failure("drop trigger refuse_log on stripe_deliveries")
        .await;
    assert_eq!(
        app.deliver(&event).await.expect("redelivery").outcome,
        APPLIED
    );
    assert_eq!(
        claim_outcome(&app, &event_id).await.as_deref(),
        Some("applied")
    );
    let outcomes: Vec<String> = logged(&app, &event_id)
        .await
        .into_iter()
        .map(|(outcome, _)| outcome)
        .collect();
    assert_eq!(outcomes, ["failed", "applied"]);
    app.stop().await;
}

#[tokio::test]
async fn each_delivery_is_logged_with_its_outcome_and_the_claim_keeps_the_events() {
    let app = TestBilling::spawn().await;
    let tenant = Uuid::new_v4();
    let subscription = stripe_id("sub");
    let (newer, older) = (stripe_id("evt"), stripe_id("evt"));
    let newer_event = subscription_event(
        &newer,
        "customer.subscription.updated",
        T0 + 10,
        &subscription,
        "active",
        tenant,
    );
    let older_event = subscription_event(
        &older,
        "customer.subscription.updated",
        T0,
        &subscription,
        "past_due",
        tenant,
    );
    assert_eq!(
        app.deliver(&newer_event).await.expect("newer").outcome,
        APPLIED
    );
    assert_eq!(
        app.deliver(&older_event).await.expect("older").outcome,
        STALE
    );
    assert_eq!(
        app.deliver(&older_event).await.expect("again").outcome,
        DUPLICATE
    );
    // The claim was written as applied and corrected to stale in the log row's statement.
    assert_eq!(claim_outcome(&app, &older).await.as_deref(), Some("stale"));
    assert_eq!(
        claim_outcome(&app, &newer).await.as_deref(),
        Some("applied")
    );
    let outcomes = |log: Vec<(String, Option<String>)>| -> Vec<String> {
        log.into_iter().map(|(outcome, _)| outcome).collect()
    };
    assert_eq!(outcomes(logged(&app, &older).await), ["stale", "duplicate"]);

    // A type billing does nothing with: claimed as ignored and logged in one statement.
    let ignored = stripe_id("evt");
    let body = json!({"id": ignored, "object": "event", "type": "customer.created", "created": T0,
        "data": {"object": {"id": "cus_1", "object": "customer"}}})
    .to_string();
    assert_eq!(app.deliver(&body).await.expect("ignored").outcome, IGNORED);
    assert_eq!(
        app.deliver(&body).await.expect("duplicate").outcome,
        DUPLICATE
    );
    assert_eq!(
        claim_outcome(&app, &ignored).await.as_deref(),
        Some("ignored")
    );
    assert_eq!(
        outcomes(logged(&app, &ignored).await),
        ["ignored", "duplicate"]
    );
    let sql = "select headers from stripe_deliveries where event_id = $1 limit 1";
    let headers: serde_json::Value = app.value(sql, &ignored).await.expect("headers");
    assert!(
        headers["stripe-signature"]
            .as_str()
            .is_some_and(|s| s.starts_with("t=")),
        "the signature is kept with the delivery: {headers}"
    );
    app.stop().await;
}
