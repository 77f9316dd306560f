//! The relay keeps an outbox row until its receiver acknowledges it, retrying with backoff. The tenancy
//! server these tests run does not acknowledge these events (UNIMPLEMENTED before the tenancy work
//! lands, NOT_FOUND for the made-up tenant after), so the row must stay, with its attempts and last
//! error recorded; an unreachable receiver is retried without ever parking the row.

use uuid::Uuid;

use crate::helpers::{TestBilling, eventually, new_subscription, stripe_id};

#[tokio::test]
async fn an_unacknowledged_lifecycle_event_stays_and_is_retried() {
    let app = TestBilling::spawn().await;
    let tenant = Uuid::new_v4();
    app.deliver(&new_subscription(&stripe_id("evt"), tenant))
        .await
        .expect("applied");
    eventually("the relay tried at least twice", || async {
        app.count("select coalesce(max(attempts), 0)::bigint from outbox")
            .await
            >= 2
    })
    .await;
    let (delivered, error): (Option<chrono::DateTime<chrono::Utc>>, Option<String>) =
        sqlx::query_as("select delivered_at, last_error from outbox where tenant_id = $1")
            .bind(tenant)
            .fetch_one(&app.db)
            .await
            .expect("the row is kept");
    assert!(
        delivered.is_none(),
        "never marked delivered without an acknowledgement"
    );
    assert!(
        error.is_some_and(|e| !e.is_empty()),
        "the receiver's answer is kept"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_receiver_is_retried_and_the_row_never_parked() {
    let app = TestBilling::with_unreachable_tenancy().await;
    let tenant = Uuid::new_v4();
    app.deliver(&new_subscription(&stripe_id("evt"), tenant))
        .await
        .expect("applied");
    eventually("the relay tried three times", || async {
        app.count("select coalesce(max(attempts), 0)::bigint from outbox")
            .await
            >= 3
    })
    .await;
    assert_eq!(
        app.count("select count(*) from outbox where delivered_at is null and parked_at is null")
            .await,
        1
    );
    app.stop().await;
}
