//! A bound service starts a service's background workers only once its migrations are applied: an
//! outbox relay started earlier polls a table that does not exist yet, logging errors and counting
//! relay failures at every start.

use std::{borrow::Cow, net::SocketAddr, time::Duration};

use onramp_kit::{
    db::MIGRATION_LOCK_KEY,
    grpc::server::ServerSettings,
    mail::{outbox, sink::SmtpSink},
    runtime::{BoundService, ServiceSpec, Worker},
};
use sqlx::{
    Connection as _, PgConnection,
    migrate::{Migration, MigrationType, Migrator},
};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::{
    mail_outbox::{email, relay},
    support::TestDb,
};

/// One migration: the mail outbox table.
fn outbox_migrator() -> &'static Migrator {
    Box::leak(Box::new(Migrator {
        migrations: Cow::Owned(vec![Migration::new(
            1,
            "email outbox".into(),
            MigrationType::Simple,
            outbox::TABLE_SQL.into(),
            false,
        )]),
        ..Migrator::DEFAULT
    }))
}

/// Whether a session waits for an advisory lock in the current database.
async fn migration_waits(conn: &mut PgConnection) -> bool {
    sqlx::query_scalar(
        "select exists(select 1 from pg_locks l join pg_database d on d.oid = l.database \
         where l.locktype = 'advisory' and not l.granted and d.datname = current_database())",
    )
    .fetch_one(conn)
    .await
    .expect("pg_locks")
}

#[tokio::test]
async fn workers_start_only_after_the_migrations_are_applied() {
    let db = TestDb::empty().await;
    let sink = SmtpSink::start().expect("sink");
    // Holding the migration lock keeps the service's migrations (and so its table) from landing.
    let mut blocker = PgConnection::connect_with(&db.database.options())
        .await
        .expect("connect");
    sqlx::query("select pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut blocker)
        .await
        .expect("lock");

    let (started, mut saw_table) = oneshot::channel::<bool>();
    let pool = db.pool.clone();
    let probe = Worker::new("probe", move |_stop| async move {
        let exists: bool = sqlx::query_scalar("select to_regclass('email_outbox') is not null")
            .fetch_one(&pool)
            .await
            .expect("catalog");
        let _ = started.send(exists);
    });
    let spec = ServiceSpec::new("kit-test", "0", db.pool.clone(), outbox_migrator())
        .with_workers([probe, relay(&db.pool, &sink.url()).into_worker()]);
    let service = BoundService::bind(
        spec,
        ServerSettings {
            grpc_listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            drain_period: Duration::ZERO,
            ..ServerSettings::default()
        },
    )
    .await
    .expect("bind");
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(service.run_until_stopped(shutdown.clone()));

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !migration_waits(&mut blocker).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the service never tried to migrate"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The migration waits on the lock; a worker started now would already be running.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        saw_table.try_recv().is_err(),
        "a worker started before the migrations were applied"
    );

    sqlx::query("select pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut blocker)
        .await
        .expect("unlock");
    let exists = tokio::time::timeout(Duration::from_secs(30), saw_table)
        .await
        .expect("the worker started once the migrations were in")
        .expect("probe answered");
    assert!(exists, "the worker ran before its table existed");

    // The relay worker runs too: a queued mail goes out.
    let mut conn = db.pool.acquire().await.expect("conn");
    outbox::enqueue(&mut conn, &email("after-migrations@example.com"))
        .await
        .expect("enqueue");
    drop(conn);
    let sent = sink
        .wait_for("after-migrations@example.com", 1, Duration::from_secs(10))
        .await;
    assert_eq!(sent.len(), 1);

    shutdown.cancel();
    running.await.expect("join").expect("clean stop");
    drop(blocker);
    db.drop().await;
}
