//! Password hashing cannot be turned into a denial of service (issue 12, item 3): argon2 runs in a
//! bounded number of slots per replica (sized from cores and `PASSWORD_HASH_MEMORY_LIMIT_MIB`);
//! excess requests wait briefly and are then answered `503 UNAVAILABLE` with `Retry-After`; a reset
//! completion checks its token before it hashes, so bogus completions cost no hashing at all.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{PASSWORD, TestStack, login, new_email, post, signed_up, signup};

/// A stack whose identity hashes in one slot (19 MiB: one argon2 hash) and waits `queue_wait` for it.
async fn one_hashing_slot(queue_wait: Duration) -> TestStack {
    TestStack::spawn_with(move |options| {
        options.identity(move |config: &mut onramp_identity::Config| {
            config.password_hash_memory_limit_mib = 19;
            config.password_hash_queue_wait = queue_wait;
        });
    })
    .await
}

#[tokio::test]
async fn a_hundred_bogus_reset_completions_never_hash_and_a_login_still_succeeds() {
    // With one slot and a short queue, any bogus completion that hashed would crowd the others
    // out into 503s; checked before hashing, every one is a plain 401.
    let app = one_hashing_slot(Duration::from_millis(200)).await;
    let email = signed_up(&app).await;
    let bogus = (0..100).map(|n| {
        post(
            &app,
            "/v1/auth/password-reset/complete",
            json!({ "token": format!("bogus-token-{n}"), "new_password": "a long enough passphrase" }),
        )
    });
    let (answers, signed_in) = tokio::join!(futures::future::join_all(bogus), async {
        // A generous bound: identity stays responsive to real users under the flood.
        tokio::time::timeout(Duration::from_secs(30), login(&app, &email, PASSWORD)).await
    });
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert!(statuses.iter().all(|status| *status == 401), "{statuses:?}");
    let signed_in = signed_in.expect("the login answered within the bound");
    assert_eq!(signed_in.status(), StatusCode::OK);
}

#[tokio::test]
async fn hashing_past_the_replicas_slots_answers_503_with_retry_after() {
    let app = one_hashing_slot(Duration::from_millis(1)).await;
    let emails: Vec<String> = (0..30).map(|_| new_email()).collect();
    let signups = emails.iter().map(|email| signup(&app, email, PASSWORD));
    let answers = futures::future::join_all(signups).await;
    let mut accepted = 0;
    let mut unavailable = 0;
    for answer in answers {
        match answer.status().as_u16() {
            202 => accepted += 1,
            503 => {
                unavailable += 1;
                let retry_after: u64 = answer.headers()["retry-after"]
                    .to_str()
                    .expect("ascii")
                    .parse()
                    .expect("seconds");
                assert!(retry_after >= 1);
                let problem: serde_json::Value = answer.json().await.expect("json");
                assert_eq!(problem["reason"], "UNAVAILABLE", "{problem}");
            }
            other => panic!("a saturated replica answered {other}"),
        }
    }
    assert!(accepted >= 1, "the slot itself was used");
    assert!(unavailable >= 1, "30 signups at once exceeded one slot");
}
