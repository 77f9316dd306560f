//! The claim's read of the subscription it locks, against real Postgres and a concurrent writer:
//! what it returns is the newest committed row, or nothing (then the handler reads again).

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Utc};
use onramp_kit::testing::TestDatabase;
use sqlx::PgPool;
use uuid::Uuid;

use crate::store::{
    self,
    inbox::{Claim, ClaimAs, NewDelivery},
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
    tokio::time::sleep(Duration::from_millis(300)).await;
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
    tokio::time::sleep(Duration::from_millis(300)).await;
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
async fn a_duplicate_or_an_ignored_type_reads_no_subscription() {
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
    })
    .await
    .expect("claim");
    assert!(kept.claimed);
    let duplicate = claim(ClaimAs::Applied {
        lock: Some("sub_c3"),
    })
    .await
    .expect("claim");
    assert!(!duplicate.claimed && duplicate.subscription.is_none());
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
