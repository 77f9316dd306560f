//! Lockout and reset (issue 12, item 7): a completed password reset gives the owner back an account
//! someone locked with wrong guesses, and the per-address reset limit holds when the requests race.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::{Connection, PgConnection};

use crate::support::{
    MAIL_WAIT, PASSWORD, TestStack, login, mail_text, mailed_token, new_email, post, problem,
    signup,
};

const FAILURES: u32 = 3;
const RESETS_PER_HOUR: u32 = 5;

#[tokio::test]
async fn a_completed_password_reset_clears_the_accounts_lockout() {
    let world = TestStack::with_mail_and(|options| {
        options.identity(|config| {
            config.login_max_failures_per_account = FAILURES;
        });
    })
    .await;
    let app = &world;
    let email = new_email();
    assert_eq!(
        signup(app, &email, PASSWORD).await.status(),
        StatusCode::ACCEPTED
    );
    for _ in 0..FAILURES {
        assert_eq!(
            login(app, &email, "a guess, not the password")
                .await
                .status(),
            401
        );
    }
    let locked = problem(login(app, &email, PASSWORD).await, 429).await;
    assert_eq!(locked["reason"], "RATE_LIMITED");

    let requested = post(app, "/v1/auth/password-reset", json!({ "email": email })).await;
    assert_eq!(requested.status(), StatusCode::ACCEPTED);
    let (_, token) = mailed_token(&world, &email, "/reset-password?token=").await;
    let new_password = "the owner's new passphrase";
    let done = post(
        app,
        "/v1/auth/password-reset/complete",
        json!({ "token": token, "new_password": new_password }),
    )
    .await;
    assert_eq!(done.status(), StatusCode::OK);
    // The owner is in at once, although the failure window has not passed.
    assert_eq!(
        login(app, &email, new_password).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn twenty_parallel_reset_requests_send_at_most_the_limit_of_mails() {
    let world = TestStack::with_mail_and(|options| {
        options.identity(|config| {
            config.password_reset_max_per_hour = RESETS_PER_HOUR;
        });
    })
    .await;
    let app = &world;
    let email = new_email();
    assert_eq!(
        signup(app, &email, PASSWORD).await.status(),
        StatusCode::ACCEPTED
    );
    let requests = (0..20).map(|_| post(app, "/v1/auth/password-reset", json!({ "email": email })));
    let statuses: Vec<u16> = futures::future::join_all(requests)
        .await
        .iter()
        .map(|response| response.status().as_u16())
        .collect();
    let accepted = statuses.iter().filter(|status| **status == 202).count();
    let limited = statuses.iter().filter(|status| **status == 429).count();
    assert_eq!(accepted, RESETS_PER_HOUR as usize, "{statuses:?}");
    assert_eq!(accepted + limited, 20, "{statuses:?}");

    // Exactly the accepted requests queued a mail ...
    let database = app.stack.database("identity").expect("options");
    let mut conn = PgConnection::connect_with(&database)
        .await
        .expect("connect");
    let queued: i64 = sqlx::query_scalar(
        "select count(*) from email_outbox where to_address = $1 and subject = 'Reset your password'",
    )
    .bind(&email)
    .fetch_one(&mut conn)
    .await
    .expect("count");
    conn.close().await.expect("close");
    assert_eq!(queued, i64::from(RESETS_PER_HOUR));
    // ... and the SMTP sink receives exactly those.
    let start = Instant::now();
    let resets = loop {
        let resets = world
            .sink()
            .messages()
            .iter()
            .filter(|mail| mail.to.contains(&email))
            .filter(|mail| mail_text(mail).contains("/reset-password?token="))
            .count();
        if resets >= RESETS_PER_HOUR as usize || start.elapsed() > MAIL_WAIT {
            break resets;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(resets, RESETS_PER_HOUR as usize);
}
