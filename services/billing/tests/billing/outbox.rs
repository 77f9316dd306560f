//! The relay keeps an outbox row until its receiver acknowledges it, retrying with backoff. Tenancy on
//! this branch answers UNIMPLEMENTED, so every attempt fails: the row must stay, with its attempts and
//! last error recorded.

use uuid::Uuid;

use crate::helpers::{T0, TestBilling, eventually, stripe_id, subscription_event};

#[tokio::test]
async fn an_unacknowledged_lifecycle_event_stays_and_is_retried() {
    let app = TestBilling::spawn().await;
    let tenant = Uuid::new_v4();
    app.deliver(&subscription_event(
        &stripe_id("evt"),
        "customer.subscription.created",
        T0,
        &stripe_id("sub"),
        "active",
        tenant,
    ))
    .await
    .expect("applied");
    eventually("the relay tried at least twice", || async {
        app.count("select coalesce(max(attempts), 0)::bigint from outbox")
            .await
            >= 2
    })
    .await;
    let (delivered, parked, error): (
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
        Option<String>,
    ) = sqlx::query_as(
        "select delivered_at, parked_at, last_error from outbox where tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(&app.db)
    .await
    .expect("the row is kept");
    assert!(delivered.is_none() && parked.is_none());
    assert!(
        error.is_some_and(|e| e.contains("Unimplemented")),
        "the receiver's answer is kept"
    );
    app.stop().await;
}
