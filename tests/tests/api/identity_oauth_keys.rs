//! Key rotation at an OIDC provider (issue 12, item 5, identity's side): identity keeps a provider's
//! discovery document and keys cached, and fetches them again when an ID token is signed by a key
//! it does not know — so a provider that rotates its keys (here: restarted with a new key on the
//! same issuer) keeps working without restarting identity. On its schedule
//! (`OAUTH_DISCOVERY_REFRESH`) identity fetches them again too, and a refetch that fails keeps the last
//! good document.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{
    TestStack, new_email,
    oauth::{Provider, approve, browser, mock_provider_hook, provider_user, start, start_provider},
};

/// The provider's current signing key id.
async fn kid(http: &reqwest::Client, provider: &Provider) -> String {
    let jwks: Value = http
        .get(format!("{}/jwks", provider.issuer))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    jwks["keys"][0]["kid"].as_str().expect("kid").to_owned()
}

/// A new provider user signs in through the gateway; the callback's status.
async fn sign_in(app: &TestStack, http: &reqwest::Client, provider: &Provider) -> StatusCode {
    let sub = format!("sub-{}", uuid::Uuid::new_v4().simple());
    provider_user(http, provider, &sub, &new_email(), true).await;
    let started = start(app, http).await;
    let (code, state) = approve(http, &started, &sub).await;
    http.post(app.url("/v1/auth/oauth/mock/callback"))
        .header("cookie", &started.cookie)
        .json(&serde_json::json!({ "code": code, "state": state }))
        .send()
        .await
        .expect("callback")
        .status()
}

#[tokio::test]
async fn a_provider_that_rotates_its_signing_key_keeps_working_without_restarting_identity() {
    let http = browser();
    let provider = start_provider(&http).await;
    let hook = mock_provider_hook(&provider);
    let app =
        TestStack::spawn_with(move |options| options.identity(move |config| hook.apply(config)))
            .await;
    // Identity discovers the provider and caches its keys.
    assert_eq!(sign_in(&app, &http, &provider).await, StatusCode::OK);
    let old_kid = kid(&http, &provider).await;

    let provider = provider.restart(&http).await;
    assert_ne!(kid(&http, &provider).await, old_kid, "the provider rotated");
    // The next login's ID token is signed by the new key; identity refetches and accepts it.
    assert_eq!(sign_in(&app, &http, &provider).await, StatusCode::OK);
    assert_eq!(sign_in(&app, &http, &provider).await, StatusCode::OK);
}

#[tokio::test]
async fn a_scheduled_refetch_that_fails_keeps_the_last_good_discovery_document() {
    let http = browser();
    let provider = start_provider(&http).await;
    let hook = mock_provider_hook(&provider);
    let app = TestStack::spawn_with(move |options| {
        options.identity(move |config: &mut onramp_identity::Config| {
            hook.apply(config);
            // Every use is due for a refetch.
            config.oauth_discovery_refresh = Duration::ZERO;
        });
    })
    .await;
    assert_eq!(sign_in(&app, &http, &provider).await, StatusCode::OK);
    let issuer = provider.issuer.clone();
    provider.stop().await;

    // The provider is gone: the due refetch fails, and identity still starts logins from the
    // document it has (the browser is sent to the provider's authorization endpoint).
    let started = start(&app, &http).await;
    assert!(
        started.authorization_url.starts_with(&issuer),
        "{}",
        started.authorization_url
    );
}
