//! A failing test still drops the databases it created: a failed assertion panics past the end
//! of the test, and every such run used to leave four `onramp_test_*` databases on the shared
//! server for good. Dropping the stack drops them (`support::DatabasesGuard`).

use sqlx::{Connection as _, PgConnection};

use crate::support::{TestStack, postgres};

#[tokio::test]
async fn a_test_that_panics_before_stopping_its_stack_still_drops_its_databases() {
    let (names_tx, names_rx) = tokio::sync::oneshot::channel();
    let failed = tokio::spawn(async move {
        let app = TestStack::spawn().await;
        names_tx
            .send(app.stack.created_databases().to_vec())
            .expect("the test is listening");
        panic!("a failed assertion, deliberately, before `stop`");
    })
    .await;
    assert!(failed.is_err_and(|error| error.is_panic()));

    let names = names_rx.await.expect("the stack started");
    assert_eq!(names.len(), 4, "{names:?}");
    let options = postgres().options().expect("options").database("postgres");
    let mut conn = PgConnection::connect_with(&options).await.expect("connect");
    let left: i64 = sqlx::query_scalar("select count(*) from pg_database where datname = any($1)")
        .bind(&names)
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(left, 0, "the panicking test left {names:?} behind");
}
