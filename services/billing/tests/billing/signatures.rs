//! Every signature case of the issue: refused with 400 WEBHOOK_SIGNATURE_INVALID and nothing stored but
//! a counted rejection; one of two `v1` valid, or a rotated secret, is accepted.

use onramp_kit::{ApiError, Code, config::SecretString};
use stripe_webhook::Webhook;
use uuid::Uuid;

use crate::helpers::{
    T0, TestBilling, eventually, new_subscription, secret, stripe_id, subscription_event,
};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn v1_of(header: &str) -> &str {
    header
        .split(',')
        .find_map(|part| part.strip_prefix("v1="))
        .unwrap_or_default()
}

#[tokio::test]
async fn bad_signatures_are_refused_and_only_counted() {
    let app = TestBilling::spawn().await;
    let body = subscription_event(
        &stripe_id("evt"),
        "customer.subscription.updated",
        T0,
        &stripe_id("sub"),
        "active",
        Uuid::new_v4(),
    );
    // One signing time for every header the test splices together: a second `v1` only verifies
    // against the `t=` it was made with, and under load the cases below can cross a second.
    let signed_at = now();
    let good = Webhook::generate_test_header(&body, &secret(), Some(signed_at));
    let mut changed = body.clone().into_bytes();
    let last = changed.len() - 2;
    changed[last] = b' ';
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        (
            "wrong secret",
            body.clone().into_bytes(),
            Webhook::generate_test_header(&body, "whsec_someone_else", Some(now())),
        ),
        ("body changed by one byte", changed, good.clone()),
        (
            "timestamp 301 s old",
            body.clone().into_bytes(),
            Webhook::generate_test_header(&body, &secret(), Some(now() - 301)),
        ),
        ("missing header", body.clone().into_bytes(), String::new()),
        (
            "malformed header",
            body.clone().into_bytes(),
            "t=abc,v1".to_owned(),
        ),
        (
            "v0 only",
            body.clone().into_bytes(),
            good.replace("v1=", "v0="),
        ),
    ];
    for (name, payload, header) in &cases {
        let status = app.deliver_signed(payload, header).await.expect_err(name);
        let error = ApiError::from_status(&status);
        assert_eq!(error.code, Code::WebhookSignatureInvalid, "{name}");
    }
    assert_eq!(app.count("select count(*) from stripe_deliveries").await, 0);
    assert_eq!(app.count("select count(*) from stripe_events").await, 0);
    assert_eq!(app.count("select count(*) from outbox").await, 0);
    // Rejections are counted in memory and reach the table in the background, within a second.
    eventually("the six rejections are counted", || async {
        app.count("select coalesce(sum(count), 0)::bigint from webhook_rejections")
            .await
            == 6
    })
    .await;

    // One of two v1 signatures valid (the other made with an old secret) is accepted.
    let stale = Webhook::generate_test_header(&body, "whsec_old", Some(signed_at));
    let both = format!("{stale},v1={}", v1_of(&good));
    let response = app
        .deliver_signed(body.as_bytes(), &both)
        .await
        .expect("one valid v1 is enough");
    assert_eq!(response.outcome, 1, "applied");
    app.stop().await;
}

#[tokio::test]
async fn every_configured_secret_verifies_during_rotation() {
    let app = TestBilling::spawn_with(|config| {
        config.stripe_webhook_secrets = vec![
            SecretString::from("whsec_previous".to_owned()),
            SecretString::from(secret()),
        ];
    })
    .await;
    for key in ["whsec_previous".to_owned(), secret()] {
        let body = new_subscription(&stripe_id("evt"), Uuid::new_v4());
        let header = Webhook::generate_test_header(&body, &key, None);
        app.deliver_signed(body.as_bytes(), &header)
            .await
            .expect("either secret verifies");
    }
    app.stop().await;
}

#[tokio::test]
async fn without_a_webhook_secret_the_endpoint_is_refused() {
    let app = TestBilling::spawn_with(|config| config.stripe_webhook_secrets.clear()).await;
    let body = new_subscription(&stripe_id("evt"), Uuid::new_v4());
    let status = app
        .deliver(&body)
        .await
        .expect_err("manual mode has no webhooks");
    assert_eq!(ApiError::from_status(&status).code, Code::PermissionDenied);
    assert_eq!(app.count("select count(*) from stripe_deliveries").await, 0);
    app.stop().await;
}
