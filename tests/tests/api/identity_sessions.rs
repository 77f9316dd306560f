//! Sessions end to end: refresh rotation, reuse detection revoking the family, logout and
//! logout-everywhere, and enumeration-safe answers.

use std::time::Duration;

use onramp_kit::auth::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    PASSWORD, TestStack, comparable, login, login_json, me, new_email, post, problem, signed_in,
    signup, with_refresh_token,
};

/// The reuse window the tests configure: a rotated token presented again within it is a second tab.
const REUSE_WINDOW: Duration = Duration::from_secs(3);

async fn refresh(app: &TestStack, token: &Value) -> reqwest::Response {
    post(app, "/v1/auth/refresh", json!({ "refresh_token": token })).await
}

/// A stack whose identity and gateway share `clock`, with [`REUSE_WINDOW`].
async fn stack_with_clock(clock: &Clock) -> TestStack {
    let (identity_clock, gateway_clock) = (clock.clone(), clock.clone());
    TestStack::spawn_with(move |options| {
        options.identity(move |config: &mut onramp_identity::Config| {
            config.clock = identity_clock.clone();
            config.refresh_reuse_window = REUSE_WINDOW;
        });
        options.gateway(move |config: &mut onramp_gateway::Config| {
            config.clock = gateway_clock.clone()
        });
    })
    .await
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_whole_family() {
    let clock = Clock::system();
    let app = stack_with_clock(&clock).await;
    let (_, first) = signed_in(&app).await;

    let response = refresh(&app, &first["refresh_token"]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: Value = response.json().await.expect("json");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(second["session_id"], first["session_id"]);
    let access = second["access_token"].as_str().expect("access");
    assert_eq!(me(&app, access).await.status(), StatusCode::OK);

    // The first token was rotated: presenting it again after the reuse window is reuse, and the
    // family dies with it.
    clock.advance(REUSE_WINDOW + Duration::from_secs(1));
    let reused = problem(refresh(&app, &first["refresh_token"]).await, 401).await;
    assert_eq!(reused["reason"], "REFRESH_TOKEN_REUSED");
    let after = problem(refresh(&app, &second["refresh_token"]).await, 401).await;
    assert_eq!(after["reason"], "UNAUTHENTICATED");

    // Another session of the same user is untouched.
    let (_, other) = signed_in(&app).await;
    assert_eq!(
        refresh(&app, &other["refresh_token"]).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn two_tabs_refreshing_one_token_at_once_both_stay_signed_in() {
    let clock = Clock::system();
    let app = stack_with_clock(&clock).await;
    let (_, first) = signed_in(&app).await;

    // Both tabs send the same refresh token at the same moment.
    let (one, two) = tokio::join!(
        refresh(&app, &first["refresh_token"]),
        refresh(&app, &first["refresh_token"])
    );
    assert_eq!(one.status(), StatusCode::OK);
    assert_eq!(two.status(), StatusCode::OK);
    let one: Value = one.json().await.expect("json");
    let two: Value = two.json().await.expect("json");
    assert_eq!(one["session_id"], first["session_id"]);
    assert_eq!(two["session_id"], first["session_id"]);
    // Each tab's pair works: its access token reads, its refresh token rotates on.
    for pair in [&one, &two] {
        let access = pair["access_token"].as_str().expect("access");
        assert_eq!(me(&app, access).await.status(), StatusCode::OK);
        let next = refresh(&app, &pair["refresh_token"]).await;
        assert_eq!(next.status(), StatusCode::OK, "the tab stays signed in");
    }

    // The window does not slide: the same old token after it is reuse and ends the session.
    clock.advance(REUSE_WINDOW + Duration::from_secs(1));
    let reused = problem(refresh(&app, &first["refresh_token"]).await, 401).await;
    assert_eq!(reused["reason"], "REFRESH_TOKEN_REUSED");
    let (_, fresh) = signed_in(&app).await;
    assert_ne!(fresh["session_id"], first["session_id"]);
}

#[tokio::test]
async fn logout_ends_one_session_and_logout_everywhere_ends_them_all() {
    let app = TestStack::spawn().await;
    let (email, one) = signed_in(&app).await;
    let two = login_json(&app, &email, PASSWORD).await;
    let three = login_json(&app, &email, PASSWORD).await;

    let logout_one = async || {
        let answer = with_refresh_token(&app, "/v1/auth/logout", &one).await;
        answer.json::<Value>().await.expect("json")
    };
    assert_eq!(logout_one().await, json!({ "revoked": true }));
    assert_eq!(
        problem(refresh(&app, &one["refresh_token"]).await, 401).await["reason"],
        "UNAUTHENTICATED"
    );
    assert_eq!(logout_one().await, json!({ "revoked": false }), "again");

    let everywhere = app
        .http
        .post(app.url("/v1/auth/logout-everywhere"))
        .bearer_auth(two["access_token"].as_str().expect("access"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        everywhere.json::<Value>().await.expect("json"),
        json!({ "sessions_revoked": 2 })
    );
    for session in [&two, &three] {
        let refused = problem(refresh(&app, &session["refresh_token"]).await, 401).await;
        assert_eq!(refused["reason"], "UNAUTHENTICATED");
    }
    let anonymous = app
        .http
        .post(app.url("/v1/auth/logout-everywhere"))
        .send()
        .await
        .expect("request");
    assert_eq!(problem(anonymous, 401).await["reason"], "UNAUTHENTICATED");
    let empty = post(&app, "/v1/auth/refresh", json!({})).await;
    assert_eq!(problem(empty, 400).await["field"], "refresh_token");
}

#[tokio::test]
async fn existing_and_unknown_accounts_get_identical_answers() {
    let app = TestStack::spawn().await;
    let (email, _) = signed_in(&app).await;

    let new = comparable(signup(&app, &new_email(), PASSWORD).await).await;
    let existing = comparable(signup(&app, &email, "another long password").await).await;
    assert_eq!(new, existing);
    assert_eq!(new.0, 202);
    // The second signup changed nothing: the original password still works.
    assert_eq!(login(&app, &email, PASSWORD).await.status(), StatusCode::OK);
    assert_eq!(
        login(&app, &email, "another long password").await.status(),
        StatusCode::UNAUTHORIZED
    );

    let unknown = comparable(login(&app, &new_email(), PASSWORD).await).await;
    let wrong = comparable(login(&app, &email, "not the password at all").await).await;
    assert_eq!(unknown, wrong);
    assert_eq!(unknown.0, 401);
    assert_eq!(unknown.1["reason"], "INVALID_CREDENTIALS");
}
