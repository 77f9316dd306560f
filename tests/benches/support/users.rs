//! A user signed up and in through the gateway, as the benches' clients are.

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use uuid::Uuid;

/// Signs a new user up and in through the gateway; returns the access token and the user's id.
pub(crate) async fn signed_in_user(
    http: &reqwest::Client,
    gateway: &str,
) -> anyhow::Result<(String, String)> {
    let email = format!("bench-{}@example.com", Uuid::new_v4().simple());
    let password = "correct horse battery staple";
    let signup = http
        .post(format!("{gateway}/v1/auth/signup"))
        .json(&json!({ "email": email, "password": password, "display_name": "Bench" }))
        .send()
        .await?;
    if signup.status() != 202 {
        bail!("signup answered {}", signup.status());
    }
    let session: Value = http
        .post(format!("{gateway}/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = session["access_token"]
        .as_str()
        .context("no access token")?
        .to_owned();
    let me: Value = http
        .get(format!("{gateway}/v1/users/me"))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = me["id"].as_str().context("no user id")?.to_owned();
    Ok((token, id))
}
