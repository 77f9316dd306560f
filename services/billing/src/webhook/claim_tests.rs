//! The claim's read of the subscription it locks, against real Postgres and a concurrent writer:
//! what it returns is the newest committed row, or nothing (then the handler reads again).

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Utc};
use onramp_kit::testing::TestDatabase;
use sqlx::PgPool;
use uuid::Uuid;

use crate::store::{
    self,
    inbox::{Claim, ClaimAs, Guard, NewDelivery},
};

async fn database() -> (TestDatabase, PgPool) {
    let database = TestDatabase::create("billing").await;
    let pool = database.connect().await;
    crate::startup::MIGRATOR.run(&pool).await.expect("migrate");
    (database, pool)
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000 + seconds, 0).expect("a time")
}

async fn insert_subscription(
    executor: impl sqlx::PgExecutor<'_>,
    id: &str,
    status: &str,
    version: &str,
) {
    sqlx::query(
        "insert into subscriptions (stripe_subscription_id, status, last_event_created, last_event_id)
         values ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(status)
    .bind(at(0))
    .bind(version)
    .execute(executor)
    .await
    .expect("insert");
}

/// Returns once a backend of this test's database waits for a row lock (the claim, blocked by the
/// test's writer), so the test changes the row only while the claim is really waiting.
async fn waits_for_a_lock(pool: &PgPool) {
    for _ in 0..200 {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock'",
        )
        .fetch_one(pool)
        .await
        .expect("pg_stat_activity");
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the claim never waited for the subscription's lock");
}

/// Claims `event_id` for subscription `subscription` in a transaction of its own (kept open until
/// the claim returned) while another transaction holds the subscription's lock.
fn claim_in_background(
    pool: &PgPool,
    event_id: &'static str,
    subscription: &'static str,
) -> tokio::task::JoinHandle<Claim> {
    let pool = pool.clone();
    tokio::spawn(async move {
        let headers = BTreeMap::new();
        let delivery = NewDelivery {
            event_id,
            event_type: "customer.subscription.updated",
            headers: &headers,
            payload: b"{}",
            connect: false,
        };
        let mut tx = pool.begin().await.expect("begin");
        let claim = store::inbox::claim_and_log(
            &mut *tx,
            Uuid::now_v7(),
            &delivery,
            at(10),
            None,
            ClaimAs::Applied {
                lock: Some(subscription),
                guard: None,
            },
        )
        .await
        .expect("claim");
        tx.rollback().await.expect("rollback");
        claim
    })
}

#[tokio::test]
async fn the_claim_reads_the_version_committed_while_it_waited_for_the_lock() {
    let (database, pool) = database().await;
    insert_subscription(&pool, "sub_c1", "active", "evt_old").await;

    let mut writer = pool.begin().await.expect("begin");
    store::subscriptions::lock(&mut writer, "sub_c1")
        .await
        .expect("lock");
    let claim = claim_in_background(&pool, "evt_c1", "sub_c1");
    waits_for_a_lock(&pool).await;
    assert!(
        !claim.is_finished(),
        "the claim waits for the subscription's lock"
    );
    sqlx::query(
        "update subscriptions set status = 'past_due', last_event_id = 'evt_new'
         where stripe_subscription_id = 'sub_c1'",
    )
    .execute(&mut *writer)
    .await
    .expect("update");
    writer.commit().await.expect("commit");

    let claim = claim.await.expect("claimed");
    assert!(claim.claimed);
    let row = claim.subscription.expect("the row exists");
    assert_eq!(
        (row.status.as_str(), row.last_event_id.as_str()),
        ("past_due", "evt_new"),
        "the newest committed version, not the one of the statement's snapshot"
    );
    pool.close().await;
    database.remove().await;
}

#[tokio::test]
async fn a_row_inserted_while_the_claim_waited_is_not_claimed_to_be_absent() {
    let (database, pool) = database().await;
    let mut writer = pool.begin().await.expect("begin");
    store::subscriptions::lock(&mut writer, "sub_c2")
        .await
        .expect("lock");
    let claim = claim_in_background(&pool, "evt_c2", "sub_c2");
    waits_for_a_lock(&pool).await;
    insert_subscription(&mut *writer, "sub_c2", "active", "evt_first").await;
    writer.commit().await.expect("commit");

    // The claim's snapshot predates the insert: it reads nothing, which the handler takes as
    // "read it again" (now under the lock, in a statement of its own).
    let claim = claim.await.expect("claimed");
    assert!(claim.claimed);
    assert!(claim.subscription.is_none());
    let mut tx = pool.begin().await.expect("begin");
    let again = store::subscriptions::get(&mut tx, "sub_c2")
        .await
        .expect("get");
    assert_eq!(
        again.map(|row| row.last_event_id).as_deref(),
        Some("evt_first")
    );
    tx.rollback().await.expect("rollback");
    pool.close().await;
    database.remove().await;
}

#[tokio::test]
async fn a_duplicate_is_not_claimed_and_an_ignored_type_reads_no_subscription() {
    let (database, pool) = database().await;
    insert_subscription(&pool, "sub_c3", "active", "evt_old").await;
    let first = claim_in_background(&pool, "evt_c3", "sub_c3")
        .await
        .expect("first");
    assert!(first.claimed && first.subscription.is_some());
    // The first claim was rolled back: claim again and keep it, then claim a duplicate.
    let headers = BTreeMap::new();
    let delivery = NewDelivery {
        event_id: "evt_c3",
        event_type: "customer.subscription.updated",
        headers: &headers,
        payload: b"{}",
        connect: false,
    };
    let claim = |claim_as| {
        store::inbox::claim_and_log(&pool, Uuid::now_v7(), &delivery, at(10), None, claim_as)
    };
    let kept = claim(ClaimAs::Applied {
        lock: Some("sub_c3"),
        guard: None,
    })
    .await
    .expect("claim");
    assert!(kept.claimed);
    let duplicate = claim(ClaimAs::Applied {
        lock: Some("sub_c3"),
        guard: Some(Guard::Older),
    })
    .await
    .expect("claim");
    // (A duplicate takes the lock and reads the row too — the guard needs them before the claim is
    // tried — and its caller ignores them.)
    assert!(!duplicate.claimed && !duplicate.stale);
    let ignored = store::inbox::claim_and_log(
        &pool,
        Uuid::now_v7(),
        &NewDelivery {
            event_id: "evt_c4",
            event_type: "customer.created",
            ..delivery
        },
        at(10),
        None,
        ClaimAs::Ignored,
    )
    .await
    .expect("claim");
    assert!(ignored.claimed && ignored.subscription.is_none());
    pool.close().await;
    database.remove().await;
}

/// Claims `event_id` of `event_type` at `created` for `subscription` under `guard`, autocommitted;
/// the claim and the outcome stored for the event and for its delivery.
async fn claim_guarded(
    pool: &PgPool,
    event_id: &str,
    event_type: &str,
    created: DateTime<Utc>,
    subscription: &str,
    guard: Guard,
) -> (Claim, String, String) {
    let headers = BTreeMap::new();
    let delivery = NewDelivery {
        event_id,
        event_type,
        headers: &headers,
        payload: b"{}",
        connect: false,
    };
    let claim = store::inbox::claim_and_log(
        pool,
        Uuid::now_v7(),
        &delivery,
        created,
        None,
        ClaimAs::Applied {
            lock: Some(subscription),
            guard: Some(guard),
        },
    )
    .await
    .expect("claim");
    let (event, logged): (String, String) = sqlx::query_as(
        "select e.outcome, d.outcome from stripe_events e join stripe_deliveries d using (event_id)
         where e.event_id = $1",
    )
    .bind(event_id)
    .fetch_one(pool)
    .await
    .expect("stored");
    (claim, event, logged)
}

#[tokio::test]
async fn the_claim_applies_the_version_guard_to_the_row_it_read() {
    let (database, pool) = database().await;
    sqlx::query(
        "insert into subscriptions (stripe_subscription_id, status, last_event_created, last_event_id)
         values ('sub_g', 'active', $1, 'evt_at_5'), ('sub_p', 'active', 'epoch', 'evt_checkout')",
    )
    .bind(at(5))
    .execute(&pool)
    .await
    .expect("rows");
    let cases = [
        // (event, type, created, subscription, guard, stale?)
        (
            "evt_older",
            "customer.subscription.updated",
            at(4),
            "sub_g",
            Guard::Older,
            true,
        ),
        // The same second: not stale here, the handler settles the tie.
        (
            "evt_tie",
            "customer.subscription.updated",
            at(5),
            "sub_g",
            Guard::Older,
            false,
        ),
        (
            "evt_newer",
            "customer.subscription.updated",
            at(6),
            "sub_g",
            Guard::Older,
            false,
        ),
        (
            "evt_inv_tie",
            "invoice.paid",
            at(5),
            "sub_g",
            Guard::NotNewer,
            true,
        ),
        (
            "evt_inv_newer",
            "invoice.paid",
            at(6),
            "sub_g",
            Guard::NotNewer,
            false,
        ),
        // A row only a Checkout recorded is older than any event.
        (
            "evt_on_checkout",
            "customer.subscription.updated",
            at(-100),
            "sub_p",
            Guard::Older,
            false,
        ),
        (
            "evt_inv_on_checkout",
            "invoice.paid",
            at(-100),
            "sub_p",
            Guard::NotNewer,
            false,
        ),
        // No row yet: nothing to be stale against.
        (
            "evt_no_row",
            "customer.subscription.created",
            at(-100),
            "sub_none",
            Guard::Older,
            false,
        ),
    ];
    for (event_id, event_type, created, subscription, guard, stale) in cases {
        let (claim, event, logged) =
            claim_guarded(&pool, event_id, event_type, created, subscription, guard).await;
        assert!(claim.claimed, "{event_id}");
        assert_eq!(claim.stale, stale, "{event_id}");
        let expected = if stale { "stale" } else { "applied" };
        assert_eq!(
            (event.as_str(), logged.as_str()),
            (expected, expected),
            "{event_id}"
        );
    }
    pool.close().await;
    database.remove().await;
}
