//! The public sales-lead form end to end: validation, the per-IP limit shared by every gateway and
//! service replica (counted in Postgres), and exactly one notification email per lead via the outbox.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{
    onboarding::{OnboardingRig, PROXY_HEADER, RigOptions},
    poll::eventually,
};

const SALES: &str = "sales@localhost";

async fn submit(rig: &OnboardingRig, gateway: usize, ip: &str, body: &Value) -> reqwest::Response {
    rig.http
        .post(rig.url(gateway, "/v1/sales-leads"))
        .header(PROXY_HEADER, ip)
        .json(body)
        .send()
        .await
        .expect("request")
}

fn lead(name: &str) -> Value {
    json!({"full_name": name, "email": "buyer@example.com", "company": "Acme",
           "company_size": "medium", "message": "We want a demo.", "source": "/pricing"})
}

/// Waits (bounded) until the outbox holds no unsent email.
async fn outbox_drained(rig: &OnboardingRig) {
    eventually(Duration::from_secs(20), async || {
        let unsent: i64 =
            sqlx::query_scalar("select count(*) from email_outbox where sent_at is null")
                .fetch_one(&rig.db)
                .await
                .expect("count");
        (unsent == 0)
            .then_some(())
            .ok_or("outbox never drained".to_owned())
    })
    .await;
}

#[tokio::test]
async fn the_hourly_limit_per_ip_holds_across_gateways_and_replicas_and_each_lead_is_emailed_once()
{
    // Two gateways, each in front of its own onboarding replica: only Postgres is shared, so the
    // limit and the outbox claims must hold there. Both replicas relay mail.
    let rig = OnboardingRig::spawn_with(RigOptions {
        gateways: 2,
        onboarding_replicas: 2,
        ..RigOptions::default()
    })
    .await;
    let sink = &rig.world.sink();
    let ip = "198.51.100.7";
    for n in 0..5 {
        let created = submit(&rig, n % 2, ip, &lead(&format!("Lead {n}"))).await;
        assert_eq!(created.status(), 201, "lead {n}");
    }
    // A client-supplied internal header must not let the client pick its rate-limit key.
    let limited = rig
        .http
        .post(rig.url(1, "/v1/sales-leads"))
        .header(PROXY_HEADER, format!("203.0.113.99, {ip}"))
        .header("x-onramp-client-ip", "192.0.2.1")
        .json(&lead("Lead 5"))
        .send()
        .await
        .expect("request");
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    let problem: Value = limited.json().await.expect("json");
    assert_eq!(problem["reason"], "RATE_LIMITED");

    // Another client is not affected.
    assert_eq!(
        submit(&rig, 0, "198.51.100.8", &lead("Other"))
            .await
            .status(),
        201
    );

    outbox_drained(&rig).await;
    let mails = sink.wait_for(SALES, 6, Duration::from_secs(10)).await;
    assert_eq!(
        mails.len(),
        6,
        "one email per stored lead, none for the refused one"
    );
    for name in ["Lead 0", "Lead 4", "Other"] {
        let matching = mails.iter().filter(|m| m.data.contains(name)).count();
        assert_eq!(matching, 1, "{name}");
    }
    assert!(!mails.iter().any(|m| m.data.contains("Lead 5")));
}

#[tokio::test]
async fn bad_leads_are_refused_naming_the_field_and_store_nothing() {
    let rig = OnboardingRig::spawn().await;
    let cases = [
        (
            json!({"email": "a@example.com", "company": "Acme"}),
            "full_name",
        ),
        (
            json!({"full_name": "Ada", "email": "not-an-email", "company": "Acme"}),
            "email",
        ),
        (
            json!({"full_name": "Ada", "email": "a@example.com"}),
            "company",
        ),
        (
            json!({"full_name": "Ada", "email": "a@example.com", "company": "Acme", "company_size": "vast"}),
            "company_size",
        ),
        (
            json!({"full_name": "Ada", "email": "a@example.com", "company": "Acme", "phone": "call me"}),
            "phone",
        ),
    ];
    for (body, field) in cases {
        let refused = submit(&rig, 0, "198.51.100.9", &body).await;
        assert_eq!(refused.status(), 400, "{field}");
        let problem: Value = refused.json().await.expect("json");
        assert_eq!(problem["field"], field);
        assert_eq!(problem["reason"], "INVALID_ARGUMENT");
    }
    let not_json = rig
        .http
        .post(rig.url(0, "/v1/sales-leads"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("request");
    assert_eq!(not_json.status(), 400);
    let (leads, mails): (i64, i64) = sqlx::query_as(
        "select (select count(*) from sales_leads), (select count(*) from email_outbox)",
    )
    .fetch_one(&rig.db)
    .await
    .expect("counts");
    assert_eq!((leads, mails), (0, 0));
}

#[tokio::test]
async fn a_lead_stored_before_a_restart_is_emailed_exactly_once_after_it() {
    // The first instance cannot send (no SMTP): the lead's email waits in the outbox.
    let mut rig = OnboardingRig::spawn_with(RigOptions {
        onboarding_mails: false,
        ..RigOptions::default()
    })
    .await;
    assert_eq!(
        submit(&rig, 0, "198.51.100.10", &lead("Before restart"))
            .await
            .status(),
        201
    );
    let unsent: i64 = sqlx::query_scalar("select count(*) from email_outbox where sent_at is null")
        .fetch_one(&rig.db)
        .await
        .expect("count");
    assert_eq!(unsent, 1);

    rig.restart_onboarding(true).await;
    outbox_drained(&rig).await;
    let mails = rig
        .world
        .sink()
        .wait_for(SALES, 1, Duration::from_secs(10))
        .await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].data.contains("Before restart"));
}
