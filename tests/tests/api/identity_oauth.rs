//! OAuth / OpenID Connect end to end against a real third-party OIDC provider run locally
//! (`oidc-provider-mock` from PyPI, installed by `tests/run`): PKCE + state + nonce, a forged state,
//! a replayed code, safe linking, and the provider's refresh token encrypted at rest.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::support::{
    TestStack, me, new_email,
    oauth::{self, REDIRECT_URI, approve, browser, provider_user, stack_with_provider, start},
    problem, signed_up,
};

async fn callback(
    app: &TestStack,
    http: &reqwest::Client,
    cookie: &str,
    code: &str,
    state: &str,
) -> reqwest::Response {
    let body = json!({ "code": code, "state": state });
    oauth::callback(app, http, cookie, body).await
}

/// The field a callback's 400 names (`state` or `code`).
async fn refused_field(
    app: &TestStack,
    http: &reqwest::Client,
    cookie: &str,
    code: &str,
    state: &str,
) -> Value {
    let refused = problem(callback(app, http, cookie, code, state).await, 400).await;
    refused["field"].clone()
}

#[tokio::test]
async fn oidc_login_with_pkce_rejects_forged_state_and_replayed_code() {
    let http = browser();
    let (app, provider) = stack_with_provider(&http).await;
    let config: Value = http
        .get(app.url("/v1/config/public"))
        .send()
        .await
        .expect("config")
        .json()
        .await
        .expect("json");
    assert_eq!(
        config["oauth_providers"],
        json!([{ "id": "mock", "display_name": "Mock SSO", "kind": "oidc" }])
    );

    let (sub, email) = (
        format!("sub-{}", uuid::Uuid::new_v4().simple()),
        new_email(),
    );
    provider_user(&http, &provider, &sub, &email, true).await;
    let started = start(&app, &http).await;
    let url = url::Url::parse(&started.authorization_url).expect("url");
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(query.contains_key("code_challenge") && query.contains_key("nonce"));
    assert_eq!(query["redirect_uri"], REDIRECT_URI);
    let (code, state) = approve(&http, &started, &sub).await;

    // A forged state, and the right state from another browser (wrong or no binding), are refused
    // without consuming the real one.
    for (cookie, state) in [
        (started.cookie.as_str(), "forged-state"),
        ("onramp_oauth_binding=someone-else", state.as_str()),
        ("", state.as_str()),
    ] {
        let field = refused_field(&app, &http, cookie, &code, state).await;
        assert_eq!(field, "state", "{cookie:?} {state:?}");
    }

    let response = callback(&app, &http, &started.cookie, &code, &state).await;
    assert_eq!(response.status(), StatusCode::OK);
    // A browser gets the same session cookies as from a password login.
    let set_cookies: Vec<&str> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().expect("ascii"))
        .collect();
    assert!(
        set_cookies
            .iter()
            .any(|c| c.contains("onramp_access=") && c.contains("HttpOnly")),
        "{set_cookies:?}"
    );
    assert!(
        set_cookies
            .iter()
            .any(|c| c.starts_with("onramp_oauth_binding=;")),
        "{set_cookies:?}"
    );
    let login: Value = response.json().await.expect("json");
    assert_eq!(login["user_created"], true);
    assert_eq!(login["email_verified"], true);
    let access = login["session"]["access_token"].as_str().expect("access");
    let user: Value = me(&app, access).await.json().await.expect("json");
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["has_password"], false);
    assert_eq!(user["linked_oauth_providers"], json!(["mock"]));
    assert_eq!(user["display_name"], "Grace Hopper");

    // Replaying the callback is refused (the state is spent) ...
    let replay = refused_field(&app, &http, &started.cookie, &code, &state).await;
    assert_eq!(replay, "state");
    // ... and so is the code under a fresh state: the provider will not redeem it twice.
    let again = start(&app, &http).await;
    let (_, fresh_state) = approve(&http, &again, &sub).await;
    let replayed_code = refused_field(&app, &http, &again.cookie, &code, &fresh_state).await;
    assert_eq!(replayed_code, "code");

    // The next login finds the linked account.
    let third = start(&app, &http).await;
    let (code, state) = approve(&http, &third, &sub).await;
    let login: Value = callback(&app, &http, &third.cookie, &code, &state)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(login["user_created"], false);
    assert_eq!(login["session"]["user_id"], user["id"]);

    // The provider's refresh token is stored, encrypted: never the token itself.
    let mut conn = app.connect("identity").await;
    let stored: Option<Vec<u8>> = sqlx::query_scalar(
        "select refresh_token_encrypted from oauth_identities where subject = $1",
    )
    .bind(&sub)
    .fetch_one(&mut conn)
    .await
    .expect("identity row");
    let stored = stored.expect("a refresh token was stored");
    assert!(stored.len() > 12 + 16, "nonce + ciphertext + tag");
    assert!(std::str::from_utf8(&stored).is_err() || !stored.iter().all(u8::is_ascii_alphanumeric));
    conn.close().await.expect("close");
}

#[tokio::test]
async fn oidc_never_takes_over_a_password_account_with_an_unverified_email() {
    let http = browser();
    let (app, provider) = stack_with_provider(&http).await;
    let email = signed_up(&app).await;
    let sub = format!("sub-{}", uuid::Uuid::new_v4().simple());
    provider_user(&http, &provider, &sub, &email, true).await;
    let started = start(&app, &http).await;
    let (code, state) = approve(&http, &started, &sub).await;
    let refused = problem(
        callback(&app, &http, &started.cookie, &code, &state).await,
        409,
    )
    .await;
    assert_eq!(refused["reason"], "EMAIL_ALREADY_REGISTERED_USE_LOGIN");

    let unknown = http
        .get(app.url("/v1/auth/oauth/nope/start"))
        .send()
        .await
        .expect("start");
    assert_eq!(problem(unknown, 404).await["reason"], "NOT_FOUND");
    let bad_redirect = http
        .get(app.url("/v1/auth/oauth/mock/start?redirect_uri=https://evil.example/cb"))
        .send()
        .await
        .expect("start");
    assert_eq!(problem(bad_redirect, 400).await["field"], "redirect_uri");
}
