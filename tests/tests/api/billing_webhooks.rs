//! `POST /v1/webhooks/stripe` end to end: Stripe's raw bytes and signature go through the gateway to
//! billing unchanged; the status Stripe sees decides whether it retries.

use serde_json::{Value, json};
use stripe_webhook::Webhook;
use uuid::Uuid;

use crate::support::{TestStack, stripe::stack_with_webhook_secret};

fn subscription_event(event_id: &str, tenant: Uuid) -> String {
    json!({
        "id": event_id, "object": "event", "type": "customer.subscription.created",
        "created": 1_790_000_000, "livemode": false,
        "data": {"object": {"id": format!("sub_{}", &Uuid::new_v4().simple().to_string()[..12]),
            "object": "subscription", "customer": "cus_e2e", "status": "active",
            "metadata": {"tenant_id": tenant.to_string()},
            "items": {"data": [{"price": {"id": "price_e2e"}, "quantity": 1}]}}},
    })
    .to_string()
}

async fn post(app: &TestStack, body: &str, signature: Option<&str>) -> (u16, Value) {
    let mut request = app
        .http
        .post(app.url("/v1/webhooks/stripe"))
        .header("content-type", "application/json")
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .header("authorization", "Bearer not-for-storage")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    let response = request.send().await.expect("gateway answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_signed_delivery_is_applied_once_and_stored_with_its_headers() {
    let (app, secret) = stack_with_webhook_secret().await;
    let event_id = format!("evt_{}", Uuid::new_v4().simple());
    let body = subscription_event(&event_id, Uuid::new_v4());
    let signature = Webhook::generate_test_header(&body, &secret, None);

    let (status, ack) = post(&app, &body, Some(&signature)).await;
    assert_eq!(
        (status, ack["outcome"].as_str()),
        (200, Some("applied")),
        "{ack}"
    );
    assert_eq!(ack["event_id"], event_id.as_str());
    let (status, ack) = post(&app, &body, Some(&signature)).await;
    assert_eq!(
        (status, ack["outcome"].as_str()),
        (200, Some("duplicate")),
        "{ack}"
    );

    let db = app.pool("billing").await;
    let rows: Vec<(Value, Vec<u8>)> =
        sqlx::query_as("select headers, payload from stripe_deliveries where event_id = $1")
            .bind(&event_id)
            .fetch_all(&db)
            .await
            .expect("deliveries");
    assert_eq!(rows.len(), 2, "every delivery is kept");
    assert_eq!(rows[0].1, body.as_bytes(), "byte for byte");
    assert!(
        rows[0].0["user-agent"]
            .as_str()
            .is_some_and(|ua| ua.starts_with("Stripe/"))
    );
    assert_eq!(rows[0].0["stripe-signature"], signature.as_str());
    assert!(
        rows[0].0.get("authorization").is_none(),
        "credentials are never stored"
    );
    db.close().await;
}

#[tokio::test]
async fn a_bad_signature_is_a_400_problem() {
    let (app, _secret) = stack_with_webhook_secret().await;
    let body = subscription_event(&format!("evt_{}", Uuid::new_v4().simple()), Uuid::new_v4());
    let forged = Webhook::generate_test_header(&body, "whsec_forged", None);
    for signature in [Some(forged.as_str()), None] {
        let (status, problem) = post(&app, &body, signature).await;
        assert_eq!(status, 400);
        assert_eq!(problem["reason"], "WEBHOOK_SIGNATURE_INVALID");
    }
    let db = app.pool("billing").await;
    let stored: i64 = sqlx::query_scalar("select count(*) from stripe_deliveries")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(stored, 0);
    db.close().await;
}

#[tokio::test]
async fn a_failed_handler_is_a_500_and_stripes_retry_applies_it() {
    let (app, secret) = stack_with_webhook_secret().await;
    let db = app.pool("billing").await;
    sqlx::raw_sql(
        "create function refuse() returns trigger language plpgsql as
             $$ begin raise exception 'injected failure'; end $$;
         create trigger refuse before insert on subscriptions for each row execute function refuse();",
    )
    .execute(&db)
    .await
    .expect("install the failure");
    let body = subscription_event(&format!("evt_{}", Uuid::new_v4().simple()), Uuid::new_v4());
    let signature = Webhook::generate_test_header(&body, &secret, None);
    let (status, problem) = post(&app, &body, Some(&signature)).await;
    assert_eq!(
        (status, problem["reason"].as_str()),
        (500, Some("INTERNAL"))
    );

    sqlx::raw_sql("drop trigger refuse on subscriptions")
        .execute(&db)
        .await
        .expect("remove the failure");
    let (status, ack) = post(&app, &body, Some(&signature)).await;
    assert_eq!((status, ack["outcome"].as_str()), (200, Some("applied")));
    db.close().await;
}
