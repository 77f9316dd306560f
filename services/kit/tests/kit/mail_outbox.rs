//! The email outbox against real Postgres and a real SMTP server: commit means sent exactly once.

use std::time::Duration;

use onramp_kit::mail::{
    Email,
    outbox::{self, OutboxRelay},
    sink::SmtpSink,
    smtp::{Mailer, SmtpSettings},
};
use sqlx::PgPool;

use crate::support::TestDb;

pub(crate) fn email(to: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Verify your email".into(),
        body_text: "token: abc".into(),
    }
}

pub(crate) fn relay(pool: &PgPool, smtp_url: &str) -> OutboxRelay {
    let mailer = Mailer::new(&SmtpSettings::new(
        smtp_url,
        "Onramp <no-reply@onramp.test>",
    ))
    .expect("mailer");
    OutboxRelay::new(pool.clone(), mailer, Duration::from_millis(20))
}

#[tokio::test]
async fn a_committed_email_is_sent_once_and_a_rolled_back_one_never() {
    let db = TestDb::create().await;
    let sink = SmtpSink::start().expect("sink");

    let mut tx = db.pool.begin().await.expect("begin");
    let id = outbox::enqueue(&mut tx, &email("kept@example.com"))
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    let mut tx = db.pool.begin().await.expect("begin");
    outbox::enqueue(&mut tx, &email("rolled-back@example.com"))
        .await
        .expect("enqueue");
    tx.rollback().await.expect("rollback");

    let relay = relay(&db.pool, &sink.url());
    assert_eq!(relay.relay_once().await.expect("relay"), 1);
    assert_eq!(
        relay.relay_once().await.expect("relay again"),
        0,
        "a sent row is never sent again"
    );

    let received = sink
        .wait_for("kept@example.com", 1, Duration::from_secs(5))
        .await;
    assert_eq!(received.len(), 1);
    assert!(
        received[0].data.contains(&format!("<{id}@onramp>")),
        "Message-ID is the outbox id"
    );
    assert!(received[0].data.contains("Subject: Verify your email"));
    assert!(
        received[0].data.contains("token: abc"),
        "the mail carried the body"
    );
    assert_eq!(sink.messages().len(), 1, "the rolled-back email was sent");
    // The sent row no longer holds the body (nor the one-time token in it).
    let (body, sent): (String, bool) =
        sqlx::query_as("select body_text, sent_at is not null from email_outbox where id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .expect("row");
    assert!(sent);
    assert_eq!(body, outbox::SENT_BODY);
    db.drop().await;
}

#[tokio::test]
async fn a_failed_send_is_kept_and_retried_later() {
    let db = TestDb::create().await;
    let mut conn = db.pool.acquire().await.expect("conn");
    outbox::enqueue(&mut conn, &email("later@example.com"))
        .await
        .expect("enqueue");

    // Nothing listens on port 1: the send fails and the row stays, scheduled for later.
    let broken = relay(&db.pool, "smtp://127.0.0.1:1");
    assert_eq!(broken.relay_once().await.expect("relay"), 0);
    let (attempts, sent, waits): (i32, bool, bool) = sqlx::query_as(
        "select attempts, sent_at is not null, next_attempt_at > now() from email_outbox",
    )
    .fetch_one(&db.pool)
    .await
    .expect("row");
    assert_eq!((attempts, sent, waits), (1, false, true));

    let sink = SmtpSink::start().expect("sink");
    let healthy = relay(&db.pool, &sink.url());
    assert_eq!(
        healthy.relay_once().await.expect("relay"),
        0,
        "backoff is honoured"
    );
    sqlx::query("update email_outbox set next_attempt_at = now()")
        .execute(&db.pool)
        .await
        .expect("due now");
    assert_eq!(healthy.relay_once().await.expect("relay"), 1);
    assert_eq!(
        sink.wait_for("later@example.com", 1, Duration::from_secs(5))
            .await
            .len(),
        1
    );
    drop(conn);
    db.drop().await;
}

#[tokio::test]
async fn concurrent_relays_send_each_email_exactly_once() {
    let db = TestDb::create().await;
    let sink = SmtpSink::start().expect("sink");
    let mut tx = db.pool.begin().await.expect("begin");
    for n in 0..30 {
        outbox::enqueue(&mut tx, &email(&format!("user{n}@example.com")))
            .await
            .expect("enqueue");
    }
    tx.commit().await.expect("commit");

    let (a, b) = (relay(&db.pool, &sink.url()), relay(&db.pool, &sink.url()));
    let mut total = 0;
    while total < 30 {
        let (sent_a, sent_b) = tokio::join!(a.relay_once(), b.relay_once());
        let round = sent_a.expect("relay a") + sent_b.expect("relay b");
        assert!(round > 0, "no progress with {total} of 30 sent");
        total += round;
    }
    assert_eq!(total, 30);
    let mut recipients: Vec<_> = sink
        .messages()
        .into_iter()
        .flat_map(|mail| mail.to)
        .collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 30);
    assert_eq!(sink.messages().len(), 30, "some email was sent twice");
    db.drop().await;
}
