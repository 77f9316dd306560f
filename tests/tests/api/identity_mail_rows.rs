//! One-time tokens do not stay in sent mail rows (issue 12, item 12, mail rows): once identity's
//! outbox relay has sent a verification or reset mail, the row keeps who and what, not the body
//! with its link.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;

use crate::support::{
    MAIL_WAIT, TestStack, poll::eventually, post, requested_reset, signed_up, verification_token,
};

#[tokio::test]
async fn sent_verification_and_reset_mails_keep_no_token_in_the_outbox() {
    let world = TestStack::with_mail().await;
    let email = signed_up(&world).await;
    let verification = verification_token(&world, &email).await;
    let (_, reset) = requested_reset(&world, &email).await;

    let mut conn = world.connect("identity").await;
    // The relay records the send right after the SMTP server took the mail.
    let bodies: Vec<String> = eventually(MAIL_WAIT, async || {
        let rows: Vec<(String, bool)> = sqlx::query_as(
            "select body_text, sent_at is not null from email_outbox where to_address = $1",
        )
        .bind(&email)
        .fetch_all(&mut conn)
        .await
        .expect("rows");
        (rows.len() == 2 && rows.iter().all(|(_, sent)| *sent))
            .then(|| rows.into_iter().map(|(body, _)| body).collect())
            .ok_or("the outbox never recorded both sends".to_owned())
    })
    .await;
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
