//! Identity end to end: shared helpers for the `identity_*` test modules, and the basic account
//! flows (signup → login → me, input validation, public config).

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestStack;

/// A password that satisfies the policy.
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// A fresh, unique email address.
pub(crate) fn new_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4().simple())
}

pub(crate) async fn post(app: &TestStack, path: &str, body: Value) -> Response {
    app.http
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .expect("request")
}

pub(crate) async fn signup(app: &TestStack, email: &str, password: &str) -> Response {
    let body = json!({ "email": email, "password": password, "display_name": "Ada Lovelace" });
    post(app, "/v1/auth/signup", body).await
}

pub(crate) async fn login(app: &TestStack, email: &str, password: &str) -> Response {
    post(
        app,
        "/v1/auth/login",
        json!({ "email": email, "password": password }),
    )
    .await
}

/// Signs a new account up and logs it in; its email and the session JSON.
pub(crate) async fn signed_in(app: &TestStack) -> (String, Value) {
    let email = new_email();
    assert_eq!(
        signup(app, &email, PASSWORD).await.status(),
        StatusCode::ACCEPTED
    );
    let response = login(app, &email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    (email, response.json().await.expect("session json"))
}

pub(crate) async fn me(app: &TestStack, access_token: &str) -> Response {
    app.http
        .get(app.url("/v1/users/me"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("request")
}

/// The problem+json body of an error response, after checking its content type and status.
pub(crate) async fn problem(response: Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    response.json().await.expect("problem json")
}

/// A response body without its per-request parts (trace id), for "identical answer" comparisons.
pub(crate) async fn comparable(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let mut body: Value = response.json().await.expect("json");
    if let Some(object) = body.as_object_mut() {
        object.remove("trace_id");
    }
    (status, body)
}

#[tokio::test]
async fn signup_then_login_gives_a_session_that_reads_the_account() {
    let app = TestStack::spawn().await;
    let (email, session) = signed_in(&app).await;
    assert_eq!(session["token_type"], "Bearer");
    // Instants are RFC 3339 UTC strings; `expires_in` is a duration and stays a number.
    assert!(session["expires_in"].is_i64(), "{session}");
    for field in ["access_token_expires_at", "refresh_token_expires_at"] {
        let text = session[field].as_str().expect(field);
        assert!(text.ends_with('Z'), "{field}: {text}");
        chrono::DateTime::parse_from_rfc3339(text).expect(field);
    }
    assert!(session["refresh_token"].as_str().expect("refresh").len() >= 43);

    let response = me(&app, session["access_token"].as_str().expect("access")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.expect("json");
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["id"], session["user_id"]);
    assert_eq!(user["email_verified"], false);
    assert_eq!(user["has_password"], true);
    assert_eq!(user["email_verification_required"], false);
    // Every instant in the API is an RFC 3339 UTC string.
    let instant = |field: &str| {
        let text = user[field].as_str().expect(field);
        assert!(text.ends_with('Z'), "{field} is not UTC: {text}");
        chrono::DateTime::parse_from_rfc3339(text).expect(field)
    };
    let grace_end = instant("verification_grace_ends_at");
    let created = instant("created_at");
    assert_eq!((grace_end - created).num_seconds(), 7 * 24 * 3600);

    let unauthenticated = app
        .http
        .get(app.url("/v1/users/me"))
        .send()
        .await
        .expect("request");
    let body = problem(unauthenticated, 401).await;
    assert_eq!(body["reason"], "UNAUTHENTICATED");
    app.stop().await;
}

#[tokio::test]
async fn bad_signup_input_names_the_field_and_writes_nothing() {
    let app = TestStack::spawn().await;
    let email = new_email();
    let cases = [
        (
            json!({ "email": "not-an-email", "password": PASSWORD, "display_name": "Ada" }),
            "email",
        ),
        (
            json!({ "email": email, "password": "short", "display_name": "Ada" }),
            "password",
        ),
        (
            json!({ "email": email, "password": "password1234", "display_name": "Ada" }),
            "password",
        ),
        (
            json!({ "email": email, "password": "x".repeat(129), "display_name": "Ada" }),
            "password",
        ),
        (
            json!({ "email": email, "password": PASSWORD }),
            "display_name",
        ),
        (
            json!({ "password": PASSWORD, "display_name": "Ada" }),
            "email",
        ),
        (json!("not an object"), "body"),
    ];
    for (body, field) in cases {
        let response = post(&app, "/v1/auth/signup", body.clone()).await;
        let problem = problem(response, 400).await;
        assert_eq!(problem["reason"], "INVALID_ARGUMENT", "{body}");
        assert_eq!(problem["field"], field, "{body}");
    }
    // Nothing was written: the address can still sign up, and never could log in meanwhile.
    assert_eq!(
        problem(login(&app, &email, PASSWORD).await, 401).await["reason"],
        "INVALID_CREDENTIALS"
    );
    assert_eq!(
        signup(&app, &email, PASSWORD).await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(login(&app, &email, PASSWORD).await.status(), StatusCode::OK);

    let empty_login = post(&app, "/v1/auth/login", json!({ "email": email })).await;
    assert_eq!(problem(empty_login, 400).await["field"], "password");
    app.stop().await;
}

#[tokio::test]
async fn public_config_tells_a_signed_out_browser_what_it_needs() {
    let app = TestStack::spawn().await;
    let response = app
        .http
        .get(app.url("/v1/config/public"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let config: Value = response.json().await.expect("json");
    assert_eq!(config["self_serve_enabled"], true);
    assert_eq!(config["oauth_providers"], json!([]));
    assert_eq!(config["password_min_length"], 12);
    assert_eq!(config["email_verification_grace_days"], 7);
    app.stop().await;
}

#[tokio::test]
async fn with_self_serve_off_signup_without_an_invite_is_refused() {
    let app = TestStack::spawn_with(|options| {
        options.configure_identity = Some(onramp_stack::ConfigHook::new(
            |config: &mut onramp_identity::Config| {
                config.self_serve_enabled = false;
            },
        ));
    })
    .await;
    let problem = problem(signup(&app, &new_email(), PASSWORD).await, 403).await;
    assert_eq!(problem["reason"], "SELF_SERVE_DISABLED");
    let config: Value = app
        .http
        .get(app.url("/v1/config/public"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(config["self_serve_enabled"], false);
    app.stop().await;
}
