//! A failing test still drops the databases it created: a failed assertion panics past
//! `TestStack::stop`, and every such run used to leave four `onramp_test_*` databases on the shared
//! server for good.

use onramp_stack::postgres::PgServer;
use sqlx::{Connection as _, PgConnection};

use crate::helpers::{TestStack, postgres};

/// Drops a stack's databases when dropped while still armed (the test did not stop the stack).
pub(crate) struct DatabasesGuard {
    server: PgServer,
    names: Vec<String>,
}

impl DatabasesGuard {
    /// Guards `names` on `server`.
    pub(crate) fn new(server: &PgServer, names: &[String]) -> Self {
        Self {
            server: server.clone(),
            names: names.to_vec(),
        }
    }

    /// The stack was stopped and its databases dropped: nothing is left to do.
    pub(crate) fn disarm(&mut self) {
        self.names.clear();
    }
}

impl Drop for DatabasesGuard {
    fn drop(&mut self) {
        if self.names.is_empty() {
            return;
        }
        let names = std::mem::take(&mut self.names);
        let server = self.server.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with its own
        // runtime does the work while this one waits. `with (force)` ends the sessions the
        // abandoned services still hold.
        let dropped = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let options = server.options()?;
                for name in &names {
                    onramp_kit::db::drop_database(&options, name).await?;
                }
                anyhow::Ok(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("could not drop a failed test's databases: {error:#}"),
            Err(_) => eprintln!("dropping a failed test's databases panicked"),
        }
    }
}

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
