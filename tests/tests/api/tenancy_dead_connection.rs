//! A provisioning whose database connection dies mid-transaction (the backend is terminated while
//! it inserts the starter data, as a failover or a connection reaper would) answers `503` with
//! `Retry-After`, not `422`: the transaction rolled back, nothing was kept, and the client's retry
//! with the same `Idempotency-Key` succeeds.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::support::{
    TestStack,
    tenancy::{PROVISIONING_TABLES, count, provision},
};

#[tokio::test]
async fn a_connection_terminated_mid_provisioning_answers_503_with_retry_after_and_the_key_then_succeeds()
 {
    let world = TestStack::with_mail().await;
    let owner = world.verified_user().await;
    let mut db = world.connect("tenant-provisioning").await;
    // The provisioning transaction's own backend ends itself on its first starter-data row.
    sqlx::query(
        "create function terminate_own_backend() returns trigger language plpgsql as \
         $$ begin perform pg_terminate_backend(pg_backend_pid()); return new; end $$",
    )
    .execute(&mut db)
    .await
    .expect("function");
    sqlx::query(
        "create trigger terminate_own_backend before insert on starter_items \
         for each row execute function terminate_own_backend()",
    )
    .execute(&mut db)
    .await
    .expect("trigger");

    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({ "name": "Cut short" });
    let cut = provision(&world, &owner, &key, body.clone()).await;
    assert_eq!(cut.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(cut.headers()["content-type"], "application/problem+json");
    let retry_after = cut.headers()["retry-after"]
        .to_str()
        .expect("retry-after")
        .parse::<u64>()
        .expect("whole seconds");
    assert!(retry_after >= 1, "{retry_after}");
    let problem: Value = cut.json().await.expect("json");
    assert_eq!(problem["reason"], "UNAVAILABLE");
    for table in PROVISIONING_TABLES {
        let rows = count(&mut db, &format!("select count(*) from {table}")).await;
        assert_eq!(rows, 0, "{table} after a terminated connection");
    }

    sqlx::query("drop trigger terminate_own_backend on starter_items")
        .execute(&mut db)
        .await
        .expect("drop trigger");
    // The pool replaced the dead connection; the client's retry with the same key succeeds.
    let retried = provision(&world, &owner, &key, body).await;
    assert_eq!(retried.status(), StatusCode::CREATED);
    assert_eq!(count(&mut db, "select count(*) from tenants").await, 1);
    assert_eq!(
        count(&mut db, "select count(*) from starter_items").await,
        4
    );
    db.close().await.expect("close");
}
