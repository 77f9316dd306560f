//! The support every service's own suite builds on.

use onramp_kit::testing::{TestDatabase, server_url};
use sqlx::PgPool;

async fn exists(name: &str) -> bool {
    let server = PgPool::connect(&server_url()).await.expect("the server");
    let exists = sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
        .bind(name)
        .fetch_one(&server)
        .await
        .expect("pg_database");
    server.close().await;
    exists
}

#[tokio::test]
async fn a_test_that_panics_still_drops_its_database() {
    let (name_tx, name_rx) = tokio::sync::oneshot::channel();
    let test = tokio::spawn(async move {
        let database = TestDatabase::create("kit").await;
        // A session left open, as a failing test leaves its pools.
        let _pool = database.connect().await;
        name_tx.send(database.name.clone()).expect("send the name");
        panic!("the test fails before it removes its database");
    });
    assert!(test.await.is_err(), "the test panicked");
    let name = name_rx.await.expect("the name");
    assert!(!exists(&name).await, "{name} was left behind");
}

#[tokio::test]
async fn a_removed_database_is_gone() {
    let database = TestDatabase::create("kit").await;
    let name = database.name.clone();
    assert!(exists(&name).await);
    database.remove().await;
    assert!(!exists(&name).await);
}
