//! Identity end to end: shared helpers for the `identity_*` test modules, and the basic account
//! flows (signup → login → me, input validation, public config).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestStack, login, me, new_email, post, problem, signed_in, signup};

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

    let unauthenticated = app.get("/v1/users/me").await;
    let body = problem(unauthenticated, 401).await;
    assert_eq!(body["reason"], "UNAUTHENTICATED");
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
}

#[tokio::test]
async fn public_config_tells_a_signed_out_browser_what_it_needs() {
    let app = TestStack::spawn().await;
    let response = app.get("/v1/config/public").await;
    assert_eq!(response.status(), StatusCode::OK);
    let config: Value = response.json().await.expect("json");
    assert_eq!(config["self_serve_enabled"], true);
    assert_eq!(config["oauth_providers"], json!([]));
    assert_eq!(config["password_min_length"], 12);
    assert_eq!(config["email_verification_grace_days"], 7);
}

#[tokio::test]
async fn with_self_serve_off_signup_without_an_invite_is_refused() {
    let app = TestStack::spawn_with(|options| {
        options.identity(|config: &mut onramp_identity::Config| {
            config.self_serve_enabled = false;
        });
    })
    .await;
    let problem = problem(signup(&app, &new_email(), PASSWORD).await, 403).await;
    assert_eq!(problem["reason"], "SELF_SERVE_DISABLED");
    let config: Value = app.get_json("/v1/config/public").await;
    assert_eq!(config["self_serve_enabled"], false);
}
