//! The domain's own counters, moved by real traffic through the gateway: a signup and a login move
//! `onramp_signups_total` and `onramp_logins_total` by result; a webhook with no or a forged
//! signature moves `onramp_webhook_signature_rejections_total` by reason; a signed delivery moves
//! `onramp_webhook_deliveries_total` by outcome. Assertions are on deltas (the recorder is shared by
//! every test in this process, and other tests only ever add).

use onramp_kit::config::SecretString;
use reqwest::StatusCode;
use serde_json::json;
use stripe_webhook::Webhook;
use uuid::Uuid;

use crate::support::{
    PASSWORD, login,
    metrics::{Sample, recording_stack, scrape_in_process, total},
    signed_up,
    stripe::{new_webhook_secret, post_webhook},
};

fn delta(before: &[Sample], after: &[Sample], name: &str, want: &[(&str, &str)]) -> f64 {
    total(after, name, want) - total(before, name, want)
}

#[tokio::test]
async fn a_signup_and_logins_move_the_signup_and_login_counters_by_result() {
    let app = recording_stack(|_| {}).await;
    let before = scrape_in_process();
    let email = signed_up(&app).await;
    assert_eq!(
        login(&app, &email, "not the password").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(login(&app, &email, PASSWORD).await.status(), StatusCode::OK);
    let after = scrape_in_process();

    let signups = [("method", "password"), ("result", "success")];
    assert!(delta(&before, &after, "onramp_signups_total", &signups) >= 1.0);
    let good = [("method", "password"), ("result", "success")];
    assert!(delta(&before, &after, "onramp_logins_total", &good) >= 1.0);
    let bad = [("method", "password"), ("result", "bad_credentials")];
    assert!(delta(&before, &after, "onramp_logins_total", &bad) >= 1.0);
}

/// An event type billing acknowledges without acting on: counted, nothing changes.
fn ignored_event(event_id: &str) -> String {
    json!({
        "id": event_id, "object": "event", "type": "customer.created",
        "created": 1_790_000_000, "livemode": false,
        "data": {"object": {"id": "cus_metrics", "object": "customer"}},
    })
    .to_string()
}

#[tokio::test]
async fn webhook_signatures_are_counted_by_rejection_reason_and_deliveries_by_outcome() {
    let secret = new_webhook_secret();
    let configured = SecretString::from(secret.clone());
    let app = recording_stack(|options| options.billing_webhook_secrets = vec![configured]).await;
    let body = ignored_event(&format!("evt_{}", Uuid::new_v4().simple()));
    let forged = Webhook::generate_test_header(&body, "whsec_forged", None);
    let genuine = Webhook::generate_test_header(&body, &secret, None);
    let before = scrape_in_process();
    for signature in [None, Some(forged.as_str()), Some(genuine.as_str())] {
        let status = post_webhook(&app, &body, signature).await.status();
        let expected = if signature == Some(genuine.as_str()) {
            200
        } else {
            400
        };
        assert_eq!(status.as_u16(), expected, "signature {signature:?}");
    }
    let after = scrape_in_process();

    let rejections = "onramp_webhook_signature_rejections_total";
    for reason in ["missing", "mismatch"] {
        let labels = [("endpoint", "platform"), ("reason", reason)];
        assert!(
            delta(&before, &after, rejections, &labels) >= 1.0,
            "reason {reason}"
        );
    }
    let delivered = [
        ("endpoint", "platform"),
        ("event_type", "customer.created"),
        ("outcome", "ignored"),
    ];
    assert!(
        delta(
            &before,
            &after,
            "onramp_webhook_deliveries_total",
            &delivered
        ) >= 1.0
    );
}
