//! Journey (3) in a real Chromium: "Continue with Mock SSO" on the sign-up page, the real OIDC test
//! provider's authorization page, back to the app's `/oauth/callback`, signed in with cookies only.

use axum::{Json, Router, routing::get};
use serde_json::json;

use crate::support::{
    oauth::{mock_provider_hook, provider_user, start_provider},
    web::{browser_world, run_journey_with},
};

#[tokio::test]
async fn sign_in_with_the_oidc_provider_in_a_browser() {
    let http = reqwest::Client::new();
    let provider = start_provider(&http).await;
    let sub = format!("sub-{}", uuid::Uuid::new_v4().simple());
    let email = format!("sso-{}@example.com", uuid::Uuid::new_v4().simple());
    provider_user(&http, &provider, &sub, &email, true).await;
    let hook = mock_provider_hook(&provider);
    let (world, base) = browser_world(move |options| {
        let redirect = format!("{}/oauth/callback", options_base(options));
        options.identity(move |config: &mut onramp_identity::Config| {
            hook.apply(config);
            config.oauth_redirect_uris = vec![redirect.clone()];
        });
    })
    .await;
    let who = json!({ "sub": sub, "email": email });
    let control = Router::new().route("/oidc-user", get(move || async move { Json(who) }));
    run_journey_with(world, &base, "oauth.test.mjs", control).await;
    drop(provider);
}

/// The gateway's URL the stack will serve (its port is fixed before it starts).
fn options_base(options: &onramp_stack::StackOptions) -> String {
    format!("http://127.0.0.1:{}", options.gateway_port)
}
