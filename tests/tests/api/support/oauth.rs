//! The real OIDC test provider (`oidc-provider-mock`) and signing in through it as a browser does.

use std::{net::TcpListener, path::PathBuf, process::Stdio, time::Duration};

use onramp_identity::{OauthProviderConfig, ProviderKind};
use onramp_kit::config::SecretString;
use onramp_stack::{ConfigHook, StackOptions};
use reqwest::{StatusCode, redirect::Policy};
use serde_json::json;
use tokio::process::{Child, Command};

use super::{TestStack, poll::eventually};

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
    eventually(Duration::from_secs(20), async || {
        let discovery = http
            .get(format!("{issuer}/.well-known/openid-configuration"))
            .send()
            .await;
        discovery
            .is_ok_and(|r| r.status() == 200)
            .then_some(())
            .ok_or("the OIDC provider never answered".to_owned())
    })
    .await;
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

/// The provider's user `sub` (address `email`, `email_verified` as given) signs in at the gateway.
pub(crate) async fn sign_in_as(
    world: &TestStack,
    http: &reqwest::Client,
    provider: &Provider,
    sub: &str,
    email: (&str, bool),
) -> reqwest::Response {
    sign_in_carrying(world, http, provider, sub, email, None).await
}

/// [`sign_in_as`] carrying `invite_code` (if any) in the callback, as the web app does for an
/// invitee.
pub(crate) async fn sign_in_carrying(
    world: &TestStack,
    http: &reqwest::Client,
    provider: &Provider,
    sub: &str,
    (email, provider_verified): (&str, bool),
    invite_code: Option<&str>,
) -> reqwest::Response {
    provider_user(http, provider, sub, email, provider_verified).await;
    let started = start(world, http).await;
    let (code, state) = approve(http, &started, sub).await;
    let mut body = json!({ "code": code, "state": state });
    if let Some(invite_code) = invite_code {
        body["invite_code"] = json!(invite_code);
    }
    callback(world, http, &started.cookie, body).await
}

/// `POST /v1/auth/oauth/mock/callback` with the binding cookie and `body` (`code`, `state`, …).
pub(crate) async fn callback(
    app: &TestStack,
    http: &reqwest::Client,
    cookie: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    http.post(app.url("/v1/auth/oauth/mock/callback"))
        .header("cookie", cookie)
        .json(&body)
        .send()
        .await
        .expect("callback")
}

/// A TestStack mailing to a sink whose identity also knows the mock provider.
pub(crate) async fn world_with_provider(http: &reqwest::Client) -> (TestStack, Provider) {
    with_provider(http, true).await
}

/// [`world_with_provider`] without mail.
pub(crate) async fn stack_with_provider(http: &reqwest::Client) -> (TestStack, Provider) {
    with_provider(http, false).await
}

async fn with_provider(http: &reqwest::Client, mail: bool) -> (TestStack, Provider) {
    let provider = start_provider(http).await;
    let hook = mock_provider_hook(&provider);
    let adjust = move |options: &mut StackOptions| {
        options.identity(move |config| hook.apply(config));
    };
    let app = if mail {
        TestStack::with_mail_and(adjust).await
    } else {
        TestStack::spawn_with(adjust).await
    };
    (app, provider)
}

/// An HTTP client that, like a browser's fetch with `redirect: manual`, shows redirects to the test.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}
