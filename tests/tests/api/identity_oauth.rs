//! OAuth / OpenID Connect end to end against a real third-party OIDC provider run locally
//! (`oidc-provider-mock` from PyPI, installed by `tests/run`): PKCE + state + nonce, a forged state,
//! a replayed code, safe linking, and the provider's refresh token encrypted at rest.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use onramp_identity::{OauthProviderConfig, ProviderKind};
use onramp_kit::config::SecretString;
use onramp_stack::ConfigHook;
use reqwest::{StatusCode, redirect::Policy};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use tokio::process::{Child, Command};

use crate::{
    helpers::TestStack,
    identity::{PASSWORD, me, new_email, problem, signup},
};

pub(crate) const REDIRECT_URI: &str = "http://app.onramp.test/oauth/callback";

/// The provider process; killed when dropped.
pub(crate) struct Provider {
    pub(crate) issuer: String,
    _child: Child,
}

/// Where `tests/run` installs the provider (override with `OIDC_PROVIDER_MOCK`).
fn provider_binary() -> PathBuf {
    std::env::var_os("OIDC_PROVIDER_MOCK").map_or_else(
        || {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/onramp-tools/oidc-venv/bin/oidc-provider-mock")
        },
        PathBuf::from,
    )
}

pub(crate) async fn start_provider(http: &reqwest::Client) -> Provider {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    start_provider_on(http, port).await
}

impl Provider {
    /// Stops the provider and starts a fresh one on the same port: same issuer, a new signing key
    /// (and no users).
    pub(crate) async fn restart(self, http: &reqwest::Client) -> Provider {
        let issuer = self.issuer.clone();
        self.stop().await;
        let port = url::Url::parse(&issuer)
            .expect("issuer url")
            .port()
            .expect("port");
        start_provider_on(http, port).await
    }

    /// Stops the provider (and waits until it has exited).
    pub(crate) async fn stop(mut self) {
        self._child.kill().await.expect("stop the provider");
    }
}

async fn start_provider_on(http: &reqwest::Client, port: u16) -> Provider {
    let binary = provider_binary();
    let child = Command::new(&binary)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--require-nonce",
            "true",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{} did not start ({e}); run ./tests/run to install it",
                binary.display()
            )
        });
    let issuer = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    loop {
        let discovery = http
            .get(format!("{issuer}/.well-known/openid-configuration"))
            .send()
            .await;
        if discovery.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the OIDC provider never answered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Provider {
        issuer,
        _child: child,
    }
}

/// Identity configured with the mock provider (id `mock`) and the test redirect URI.
pub(crate) fn mock_provider_hook(provider: &Provider) -> ConfigHook<onramp_identity::Config> {
    let issuer = provider.issuer.clone();
    ConfigHook::new(move |config: &mut onramp_identity::Config| {
        config.oauth_providers = vec![OauthProviderConfig {
            id: "mock".into(),
            kind: ProviderKind::Oidc,
            display_name: Some("Mock SSO".into()),
            issuer_url: Some(issuer.clone()),
            tenant: None,
            client_id: "onramp".into(),
            client_secret: Some(SecretString::from("client-secret")),
        }];
        config.oauth_redirect_uris = vec![REDIRECT_URI.into()];
    })
}

/// The provider's user `sub` with these claims.
pub(crate) async fn provider_user(
    http: &reqwest::Client,
    provider: &Provider,
    sub: &str,
    email: &str,
    verified: bool,
) {
    let claims = json!({ "email": email, "email_verified": verified, "name": "Grace Hopper" });
    let response = http
        .put(format!("{}/users/{sub}", provider.issuer))
        .json(&claims)
        .send()
        .await
        .expect("set user");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

/// A login started at the gateway: the provider URL and the binding cookie.
pub(crate) struct Started {
    pub(crate) authorization_url: String,
    pub(crate) cookie: String,
}

pub(crate) async fn start(app: &TestStack, http: &reqwest::Client) -> Started {
    let response = http
        .get(app.url("/v1/auth/oauth/mock/start"))
        .send()
        .await
        .expect("start");
    assert_eq!(response.status(), StatusCode::FOUND);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let cookie = cookie.split(';').next().expect("name=value").to_owned();
    let authorization_url = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    Started {
        authorization_url,
        cookie,
    }
}

/// The user approves at the provider as `sub`; the provider redirects with `(code, state)`.
pub(crate) async fn approve(
    http: &reqwest::Client,
    started: &Started,
    sub: &str,
) -> (String, String) {
    let response = http
        .post(&started.authorization_url)
        .form(&[("sub", sub)])
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "provider refused the authorization"
    );
    let location =
        url::Url::parse(response.headers()["location"].to_str().expect("ascii")).expect("url");
    assert!(location.as_str().starts_with(REDIRECT_URI));
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_else(|| panic!("no {name} in the redirect"))
    };
    (param("code"), param("state"))
}

async fn callback(
    app: &TestStack,
    http: &reqwest::Client,
    cookie: &str,
    code: &str,
    state: &str,
) -> reqwest::Response {
    http.post(app.url("/v1/auth/oauth/mock/callback"))
        .header("cookie", cookie)
        .json(&json!({ "code": code, "state": state }))
        .send()
        .await
        .expect("callback")
}

#[tokio::test]
async fn oidc_login_with_pkce_rejects_forged_state_and_replayed_code() {
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    let provider = start_provider(&http).await;
    let hook = mock_provider_hook(&provider);
    let app = TestStack::spawn_with(move |options| options.configure_identity = Some(hook)).await;
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
        let refused = problem(callback(&app, &http, cookie, &code, state).await, 400).await;
        assert_eq!(refused["field"], "state");
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
    let replay = problem(
        callback(&app, &http, &started.cookie, &code, &state).await,
        400,
    )
    .await;
    assert_eq!(replay["field"], "state");
    // ... and so is the code under a fresh state: the provider will not redeem it twice.
    let again = start(&app, &http).await;
    let (_, fresh_state) = approve(&http, &again, &sub).await;
    let replayed_code = problem(
        callback(&app, &http, &again.cookie, &code, &fresh_state).await,
        400,
    )
    .await;
    assert_eq!(replayed_code["field"], "code");

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
    let database = app.stack.database("identity").expect("options");
    let mut conn = PgConnection::connect_with(&database)
        .await
        .expect("connect");
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
    app.stop().await;
}

#[tokio::test]
async fn oidc_never_takes_over_a_password_account_with_an_unverified_email() {
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    let provider = start_provider(&http).await;
    let hook = mock_provider_hook(&provider);
    let app = TestStack::spawn_with(move |options| options.configure_identity = Some(hook)).await;
    let email = new_email();
    assert_eq!(
        signup(&app, &email, PASSWORD).await.status(),
        StatusCode::ACCEPTED
    );
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
    app.stop().await;
}
