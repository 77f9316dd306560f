//! The relay keeps an outbox row until its receiver acknowledges it, retrying with backoff. The tenancy
//! server these tests run does not acknowledge these events (UNIMPLEMENTED before the tenancy work
//! lands, NOT_FOUND for the made-up tenant after), so the row must stay, with its attempts and last
//! error recorded; an unreachable receiver is retried without ever parking the row.

use uuid::Uuid;

use crate::helpers::{TestBilling, eventually, new_subscription, stripe_id};

/// Activates a new tenant through a webhook (which queues its lifecycle event) and waits until the
/// relay has tried to deliver that event `attempts` times; answers the tenant.
async fn activate_and_wait_for_attempts(app: &TestBilling, attempts: i64) -> Uuid {
    let tenant = Uuid::new_v4();
    app.deliver(&new_subscription(&stripe_id("evt"), tenant))
        .await
        .expect("applied");
    eventually(&format!("the relay tried {attempts} times"), || async {
        app.count("select coalesce(max(attempts), 0)::bigint from outbox")
            .await
            >= attempts
    })
    .await;
    tenant
}

#[tokio::test]
async fn an_unacknowledged_lifecycle_event_stays_and_is_retried() {
    let app = TestBilling::spawn().await;
    let tenant = activate_and_wait_for_attempts(&app, 2).await;
    // `row` panics when there is none: the row is kept.
    let sql = "select delivered_at, last_error from outbox where tenant_id = $1";
    let (delivered, error): (Option<chrono::DateTime<chrono::Utc>>, Option<String>) =
        app.row(sql, tenant).await;
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
    activate_and_wait_for_attempts(&app, 3).await;
    assert_eq!(
        app.count("select count(*) from outbox where delivered_at is null and parked_at is null")
            .await,
        1
    );
    app.stop().await;
}
