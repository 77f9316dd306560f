//! One-time tokens do not stay in sent mail rows (issue 12, item 12, mail rows): once identity's
//! outbox relay has sent a verification or reset mail, the row keeps who and what, not the body
//! with its link.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::{Connection, PgConnection};

use crate::support::{
    MAIL_WAIT, PASSWORD, TestStack, mailed_token, new_email, post, signup, verification_token,
};

#[tokio::test]
async fn sent_verification_and_reset_mails_keep_no_token_in_the_outbox() {
    let world = TestStack::with_mail().await;
    let email = new_email();
    assert_eq!(
        signup(&world, &email, PASSWORD).await.status(),
        StatusCode::ACCEPTED
    );
    let verification = verification_token(&world, &email).await;
    let requested = post(&world, "/v1/auth/password-reset", json!({ "email": email })).await;
    assert_eq!(requested.status(), StatusCode::ACCEPTED);
    let (_, reset) = mailed_token(&world, &email, "/reset-password?token=").await;

    let database = world.stack.database("identity").expect("options");
    let mut conn = PgConnection::connect_with(&database)
        .await
        .expect("connect");
    // The relay records the send right after the SMTP server took the mail.
    let start = Instant::now();
    let bodies: Vec<String> = loop {
        let rows: Vec<(String, bool)> = sqlx::query_as(
            "select body_text, sent_at is not null from email_outbox where to_address = $1",
        )
        .bind(&email)
        .fetch_all(&mut conn)
        .await
        .expect("rows");
        if rows.len() == 2 && rows.iter().all(|(_, sent)| *sent) {
            break rows.into_iter().map(|(body, _)| body).collect();
        }
        assert!(
            start.elapsed() < MAIL_WAIT,
            "the outbox never recorded both sends"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    conn.close().await.expect("close");
    for body in &bodies {
        assert!(!body.contains(&verification), "{body}");
        assert!(!body.contains(&reset), "{body}");
        assert!(!body.contains("token="), "{body}");
    }
    // The links still work: only the stored copy is gone.
    let verified = post(
        &world,
        "/v1/auth/verify-email",
        json!({ "token": verification }),
    )
    .await;
    assert_eq!(verified.status(), StatusCode::OK);
}
