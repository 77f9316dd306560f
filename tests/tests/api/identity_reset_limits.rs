//! Lockout and reset (issue 12, item 7): a completed password reset gives the owner back an account
//! someone locked with wrong guesses, and the per-address reset limit holds when the requests race.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;

use crate::support::{
    MAIL_WAIT, PASSWORD, TestStack, complete_reset, login, mail_text, post, problem,
    requested_reset, signed_up,
};

const FAILURES: u32 = 3;
const RESETS_PER_HOUR: u32 = 5;

/// A stack mailing to a sink, identity configured by `adjust`, and a new account's address.
async fn signed_up_with(adjust: fn(&mut onramp_identity::Config)) -> (TestStack, String) {
    let world = TestStack::with_mail_and(|options| options.identity(adjust)).await;
    let email = signed_up(&world).await;
    (world, email)
}

#[tokio::test]
async fn a_completed_password_reset_clears_the_accounts_lockout() {
    let (world, email) = signed_up_with(|config| {
        config.login_max_failures_per_account = FAILURES;
    })
    .await;
    let app = &world;
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

    let (_, token) = requested_reset(app, &email).await;
    let new_password = "the owner's new passphrase";
    let done = complete_reset(app, &token, new_password).await;
    assert_eq!(done.status(), StatusCode::OK);
    // The owner is in at once, although the failure window has not passed.
    assert_eq!(
        login(app, &email, new_password).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn twenty_parallel_reset_requests_send_at_most_the_limit_of_mails() {
    let (world, email) = signed_up_with(|config| {
        config.password_reset_max_per_hour = RESETS_PER_HOUR;
    })
    .await;
    let app = &world;
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
    let mut conn = app.connect("identity").await;
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
