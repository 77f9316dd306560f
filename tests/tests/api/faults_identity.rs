//! `kill -9` of identity while clients sign up (each retried with the same email on 5xx or a
//! transport error, as a careful client would) and log in, and while its mail relay sends their
//! verification mails. After the restart every acknowledged signup is exactly one account that can
//! log in, every outbox row was sent and reached the SMTP server, and resends stay within the bound
//! the relay promises: a crash can resend only the batch it had in flight (SMTP is at-least-once;
//! the `Message-ID` lets the receiver spot the resend).

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use onramp_kit::mail::sink::SmtpSink;
use serde_json::json;
use uuid::Uuid;

use crate::support::{
    fleet::{Fleet, bounded},
    poll::eventually,
    tally::{Tally, until_answered},
};

const SIGNUPS: usize = 36;
const SIGNERS: usize = 4;
const PASSWORD: &str = "correct horse battery staple";
/// The mail relay's batch (`BATCH` in `onramp_kit::mail::outbox`): the rows one pass sends before
/// it commits, so the most a `kill -9` can make it send again.
const RELAY_BATCH: usize = 20;
/// Concurrent logins of one account per round, and rounds.
const BURST: usize = 16;
const BURST_ROUNDS: usize = 12;

async fn sign_up(http: &reqwest::Client, base: &str, email: &str, tally: &Tally) {
    let body = json!({ "email": email, "password": PASSWORD, "display_name": "Fault" });
    let url = format!("{base}/v1/auth/signup");
    until_answered("signup", 202, tally, || http.post(&url).json(&body)).await;
}

async fn log_in(http: &reqwest::Client, base: &str, email: &str, tally: &Tally) {
    let body = json!({ "email": email, "password": PASSWORD });
    let url = format!("{base}/v1/auth/login");
    let session = until_answered("login", 200, tally, || http.post(&url).json(&body)).await;
    assert!(
        session["access_token"].is_string(),
        "a login answers a session: {session}"
    );
}

/// The `Message-ID` lettre wrote (`<outbox row id@onramp>`).
fn message_id(data: &str) -> Option<String> {
    data.lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("message-id").then_some(value)
        })
        .map(|value| {
            value
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .trim_end_matches("@onramp")
                .to_owned()
        })
}

/// Waits (bounded) until identity's outbox has no unsent row; returns every row id.
async fn wait_outbox_drained(db: &sqlx::PgPool) -> Vec<Uuid> {
    eventually(Duration::from_secs(30), async || {
        let unsent: i64 =
            sqlx::query_scalar("select count(*) from email_outbox where sent_at is null")
                .fetch_one(db)
                .await
                .expect("unsent");
        (unsent == 0)
            .then_some(())
            .ok_or(format!("{unsent} mails were never sent"))
    })
    .await;
    sqlx::query_scalar("select id from email_outbox")
        .fetch_all(db)
        .await
        .expect("outbox ids")
}

#[tokio::test]
async fn faults_kill9_of_identity_mid_signups_loses_no_account_and_resends_at_most_a_batch() {
    bounded(Duration::from_secs(150), async {
        let sink = SmtpSink::start().expect("smtp sink");
        let mut fleet = Fleet::services(&[
            ("identity", "SMTP_URL", sink.url()),
            ("identity", "EMAIL_OUTBOX_POLL_INTERVAL", "50ms".to_owned()),
        ])
        .await;
        fleet.start_gateway("5s", &[]).await;
        // Accounts that exist before the crash, logging in throughout it.
        let mut existing = Vec::new();
        for _ in 0..2 {
            let email = format!("before-{}@example.com", Uuid::new_v4().simple());
            sign_up(&fleet.http, &fleet.base, &email, &Tally::default()).await;
            existing.push(email);
        }

        let emails: Vec<String> = (0..SIGNUPS)
            .map(|_| format!("crash-{}@example.com", Uuid::new_v4().simple()))
            .collect();
        let tally = Arc::new(Tally::default());
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let mut clients = Vec::new();
        for signer in 0..SIGNERS {
            let mine: Vec<String> = emails
                .iter()
                .skip(signer)
                .step_by(SIGNERS)
                .cloned()
                .collect();
            let (http, base, tally) = (fleet.http.clone(), fleet.base.clone(), tally.clone());
            let acknowledged = acknowledged.clone();
            clients.push(tokio::spawn(async move {
                for email in mine {
                    sign_up(&http, &base, &email, &tally).await;
                    acknowledged.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for email in existing.clone() {
            let (http, base, tally) = (fleet.http.clone(), fleet.base.clone(), tally.clone());
            clients.push(tokio::spawn(async move {
                for _ in 0..6 {
                    log_in(&http, &base, &email, &tally).await;
                }
            }));
        }
        let start = Instant::now();
        while acknowledged.load(Ordering::Relaxed) < SIGNUPS / 3 {
            assert!(start.elapsed() < Duration::from_secs(40), "signups stalled");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        fleet.kill9("identity").await;
        fleet.restart("identity").await;
        for client in clients {
            client.await.expect("client");
        }
        tally.assert_no_500();

        let db = fleet.pool("identity").await;
        for email in emails.iter().chain(&existing) {
            let accounts: i64 = sqlx::query_scalar("select count(*) from users where email = $1")
                .bind(email)
                .fetch_one(&db)
                .await
                .expect("accounts");
            assert_eq!(accounts, 1, "{email}: acknowledged, so exactly one account");
        }
        let after = Tally::default();
        for email in &emails {
            log_in(&fleet.http, &fleet.base, email, &after).await;
        }

        let rows = wait_outbox_drained(&db).await;
        db.close().await;
        assert!(rows.len() >= SIGNUPS, "a verification mail per signup");
        let mut received: HashMap<String, usize> = HashMap::new();
        for mail in sink.messages() {
            let id = message_id(&mail.data).expect("every mail has a Message-ID");
            *received.entry(id).or_default() += 1;
        }
        for row in &rows {
            assert!(
                received.contains_key(&row.to_string()),
                "outbox row {row} is marked sent but never reached the SMTP server"
            );
        }
        let resent: usize = received.values().map(|n| n - 1).sum();
        eprintln!("{} outbox rows, {resent} resent", rows.len());
        assert!(
            received.values().all(|n| *n <= 2) && resent <= RELAY_BATCH,
            "one crash resends at most the batch in flight, each mail once more: {received:?}"
        );
    })
    .await;
}

/// Concurrent logins of one account (a user's tabs and devices, a retrying client, the soak's mix):
/// every one succeeds. Two logins finishing at once used to deadlock in Postgres (each deleting its
/// own counted attempt, then resetting the other's): one answered `500`, its attempt stayed counted
/// as a failure, and a burst of them locked the account's owner out with `429`s.
#[tokio::test]
async fn faults_a_burst_of_logins_of_one_account_neither_deadlocks_nor_locks_it_out() {
    bounded(Duration::from_secs(120), async {
        // The failure limits count an attempt until it succeeds; lifted here, so that a `429`
        // can only be the lockout left by deadlocked logins.
        let mut fleet = Fleet::services(&[
            (
                "identity",
                "LOGIN_MAX_FAILURES_PER_ACCOUNT",
                "1000".to_owned(),
            ),
            ("identity", "LOGIN_MAX_FAILURES_PER_IP", "1000".to_owned()),
        ])
        .await;
        fleet.start_gateway("10s", &[]).await;
        let email = format!("burst-{}@example.com", Uuid::new_v4().simple());
        sign_up(&fleet.http, &fleet.base, &email, &Tally::default()).await;
        let body = json!({ "email": email, "password": PASSWORD });
        let url = format!("{}/v1/auth/login", fleet.base);
        let tally = Tally::default();
        for _ in 0..BURST_ROUNDS {
            let answers = futures::future::join_all(
                (0..BURST).map(|_| fleet.http.post(&url).json(&body).send()),
            )
            .await;
            for answer in answers {
                tally.record("login", answer.map_or(0, |r| r.status().as_u16()));
            }
        }
        let statuses = tally.snapshot();
        eprintln!("answers by (route, status): {statuses:?}");
        assert_eq!(
            statuses.keys().collect::<Vec<_>>(),
            vec![&("login", 200)],
            "every login of the right password succeeds: {statuses:?}"
        );
    })
    .await;
}
