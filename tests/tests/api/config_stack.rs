//! `onramp up`'s own path ([`onramp_stack::up::start`], what the binary calls) given a config file
//! and variables built here: the settings reach the services (self-serve switch, OAuth providers,
//! SMTP, webhook secrets, default plan), and without SMTP every mail lands in the dev mailbox.

use std::time::Duration;

use onramp_kit::{config::ConfigSources, mail::sink::SmtpSink};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    PASSWORD, TestStack,
    billing::{provision, subscription},
    login, new_email,
    poll::eventually,
    post, problem, signed_up, signup,
    stripe::{Webhooks, event, new_webhook_secret},
    up::{ConfigFile, up_with},
};

#[tokio::test]
async fn the_self_serve_switch_and_oauth_providers_in_the_file_reach_identity() {
    let file = ConfigFile::new(
        r#"
app_base_url = "https://app.example.com"

[identity]
self_serve_enabled = false

[[identity.oauth_providers]]
id = "acme-sso"
kind = "oidc"
client_id = "onramp"
client_secret = "not-a-real-secret"
issuer_url = "http://127.0.0.1:9"
display_name = "Acme SSO"
"#,
    );
    let (started, app) = up_with(ConfigSources::new(
        Some(file.path()),
        Vec::<(String, String)>::new(),
    ))
    .await;
    assert!(
        started.first_screen.contains("[identity]"),
        "{}",
        started.first_screen
    );

    let config: Value = app.get_json("/v1/config/public").await;
    assert_eq!(config["self_serve_enabled"], json!(false), "{config}");
    assert_eq!(
        config["oauth_providers"][0]["id"],
        json!("acme-sso"),
        "{config}"
    );

    // APP_BASE_URL, set once, is the gateway's allowed origin too.
    let cors = app
        .http
        .get(app.url("/v1/config/public"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .expect("cors read");
    assert_eq!(
        cors.headers()
            .get("access-control-allow-origin")
            .and_then(|value| value.to_str().ok()),
        Some("https://app.example.com")
    );
    assert_eq!(started.app_url, "https://app.example.com");

    let refused = problem(signup(&app, &new_email(), PASSWORD).await, 403).await;
    assert_eq!(refused["reason"], json!("SELF_SERVE_DISABLED"), "{refused}");
}

#[tokio::test]
async fn smtp_webhook_secrets_and_the_default_plan_reach_their_services() {
    let sink = SmtpSink::start().expect("smtp sink");
    let secret = new_webhook_secret();
    let file = ConfigFile::new(&format!(
        "[billing]\nstripe_webhook_secrets = [\"{secret}\"]\nbilling_default_plan = \"free\"\n"
    ));
    let env = [
        ("SMTP_URL", sink.url()),
        ("EMAIL_OUTBOX_POLL_INTERVAL", "50ms".to_owned()),
    ];
    let (started, app) = up_with(ConfigSources::new(Some(file.path()), env)).await;
    assert!(!started.mailbox, "SMTP_URL is configured: no dev mailbox");
    let world = app.mailing_to(sink);

    // SMTP: the verification mail reaches the configured server (verified_user follows its link).
    let owner = world.verified_user().await;

    // The default plan: a workspace provisioned without a plan is on `free`.
    let tenant = provision(&world, &owner, "Acme", "").await;
    let tenant_id = tenant["tenant"]["id"]
        .as_str()
        .expect("tenant id")
        .to_owned();
    let (_, summary) = subscription(&world, &owner, &tenant_id).await;
    assert_eq!(summary["plan"]["code"], json!("free"), "{summary}");

    // Webhook secrets: billing verifies deliveries with the configured secret, and only with it.
    let body = event(
        "customer.created",
        chrono::Utc::now().timestamp(),
        &json!({"id": "cus_config", "object": "customer"}),
    );
    let url = world.url("/v1/webhooks/stripe");
    let (status, answer) = Webhooks::new(url.clone(), &secret).deliver(&body).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = Webhooks::new(url, &new_webhook_secret())
        .deliver(&body)
        .await;
    assert_eq!(status, 400, "another secret is refused: {answer}");
}

/// The dev mailbox page's mails (bounded wait until `count` are there for `to`).
async fn mailbox_mails(app: &TestStack, to: &str, count: usize) -> Vec<Value> {
    eventually(Duration::from_secs(15), async || {
        let page: Value = app.get_json("/v1/dev/mailbox").await;
        let mails: Vec<Value> = page["mails"]
            .as_array()
            .expect("mails")
            .iter()
            .filter(|mail| mail["to"] == json!(to))
            .cloned()
            .collect();
        (mails.len() >= count).then_some(mails).ok_or(format!(
            "{count} mails to {to} never reached the mailbox: {page}"
        ))
    })
    .await
}

#[tokio::test]
async fn without_smtp_verification_reset_invite_and_sales_mails_land_in_the_dev_mailbox() {
    let (started, app) = up_with(ConfigSources::new(None, [("ONRAMP_ENV", "development")])).await;
    assert!(started.mailbox, "no SMTP_URL: the dev mailbox runs");
    assert!(
        started.first_screen.contains("/v1/dev/mailbox") && started.first_screen.contains("manual"),
        "{}",
        started.first_screen
    );

    let email = signed_up(&app).await;
    let verification = &mailbox_mails(&app, &email, 1).await[0];
    let link = verification["links"][0]
        .as_str()
        .expect("a link")
        .to_owned();
    assert!(
        link.starts_with(&format!("{}/verify-email?token=", started.app_url)),
        "mail links point at this stack's app: {link}"
    );
    assert!(
        chrono::DateTime::parse_from_rfc3339(verification["received_at"].as_str().expect("time"))
            .is_ok()
    );

    // The link works: the mailbox is how a person verifies on a laptop.
    let token = link.split("token=").nth(1).expect("token");
    let verified = post(&app, "/v1/auth/verify-email", json!({ "token": token })).await;
    assert_eq!(verified.status(), StatusCode::OK);

    // Reset mails land there too, newest first.
    let reset = post(&app, "/v1/auth/password-reset", json!({ "email": email })).await;
    assert_eq!(reset.status(), StatusCode::ACCEPTED);
    let mails = mailbox_mails(&app, &email, 2).await;
    assert!(
        mails[0]["links"][0]
            .as_str()
            .is_some_and(|link| link.contains("/reset-password?token=")),
        "the reset mail is the newest: {mails:?}"
    );

    // Invites (tenancy's outbox), with links derived from the stack's public URL.
    let session: Value = login(&app, &email, PASSWORD)
        .await
        .json()
        .await
        .expect("session");
    let access = session["access_token"].as_str().expect("access token");
    let tenant: Value = app
        .http
        .post(app.url("/v1/tenants"))
        .bearer_auth(access)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"name": "Acme", "plan_id": "free"}))
        .send()
        .await
        .expect("provision")
        .json()
        .await
        .expect("json");
    let tenant_id = tenant["tenant"]["id"].as_str().expect("tenant id");
    let invitee = new_email();
    let invited = app
        .http
        .post(app.url(&format!("/v1/tenants/{tenant_id}/invites")))
        .bearer_auth(access)
        .json(&json!({"invites": [{"email": invitee, "role": "member"}]}))
        .send()
        .await
        .expect("invite");
    assert_eq!(invited.status(), StatusCode::CREATED);
    let invitation = &mailbox_mails(&app, &invitee, 1).await[0];
    assert!(
        invitation["links"][0]
            .as_str()
            .is_some_and(|link| link.starts_with(&format!("{}/invites/", started.app_url))),
        "{invitation}"
    );

    // And the sales team's notification (onboarding's outbox).
    let lead = post(
        &app,
        "/v1/sales-leads",
        json!({"full_name": "Ada", "email": email, "company": "Acme", "message": "hello"}),
    )
    .await;
    assert_eq!(lead.status(), StatusCode::CREATED);
    mailbox_mails(&app, "sales@localhost", 1).await;
}
