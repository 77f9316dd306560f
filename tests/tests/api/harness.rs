//! The harness's own promises: a test's config hook adds to the harness's (mail) and to the test's
//! other hooks, never replacing them (`StackOptions` keeps every hook added, in order).

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{PASSWORD, TestStack, login, post, problem, signed_up};

#[tokio::test]
async fn hooks_added_by_a_test_compose_with_each_other_and_with_the_harness_mail_hook() {
    let app = TestStack::with_mail_and(|options| {
        options.identity(|config| config.password_reset_max_per_hour = 1);
        options.identity(|config| config.login_max_failures_per_account = 2);
    })
    .await;
    let email = signed_up(&app).await;

    // The harness's hook still holds: identity mails the sink.
    app.nth_mail(&email, 1).await;
    // The first hook holds: one reset an hour.
    let reset = || post(&app, "/v1/auth/password-reset", json!({ "email": email }));
    assert_eq!(reset().await.status(), StatusCode::ACCEPTED);
    assert_eq!(problem(reset().await, 429).await["reason"], "RATE_LIMITED");
    // And the second: two wrong guesses lock the account.
    for _ in 0..2 {
        let guess = login(&app, &email, "a guess, not the password").await;
        assert_eq!(guess.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = problem(login(&app, &email, PASSWORD).await, 429).await;
    assert_eq!(locked["reason"], "RATE_LIMITED");
}
