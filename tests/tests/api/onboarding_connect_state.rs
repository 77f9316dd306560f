//! Connect state from Stripe for a real workspace: `account.updated` delivered to the gateway's
//! Connect webhook, verified and stored by billing and relayed to onboarding; explicit refreshes
//! over HTTP; version ties settled by re-reading Stripe; superseded and expired tokens.

use std::time::Duration;

use onramp_proto::onboarding::v1::{
    ApplyConnectAccountUpdateRequest, ConnectUpdateOutcome,
    onboarding_service_client::OnboardingServiceClient,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use stripe_webhook::Webhook;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path_regex},
};

use crate::support::onboarding::{
    ACCOUNT, OnboardingRig, back, issue_token, latest_state, mount_account_read, mount_links,
    read_account, start, started_payouts, tenant_with_token, token_row,
};
use crate::support::poll::eventually;

async fn account_reads(rig: &OnboardingRig) -> usize {
    let requests = rig.stripe.requests().await;
    requests
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path() == format!("/v1/accounts/{ACCOUNT}"))
        .count()
}

/// Delivers a signed `account.updated` for the rig's account, as Stripe sends it to the Connect
/// endpoint, asserting that it was acknowledged.
async fn deliver_account_updated(
    rig: &OnboardingRig,
    event_id: &str,
    created: i64,
    requirements_met: bool,
) {
    let mut account = crate::support::onboarding::account_json(requirements_met);
    account["requirements"]["currently_due"] = if requirements_met {
        json!([])
    } else {
        json!(["external_account"])
    };
    let body = json!({
        "id": event_id, "object": "event", "type": "account.updated", "account": ACCOUNT,
        "created": created, "livemode": false, "data": {"object": account},
    })
    .to_string();
    let signature = Webhook::generate_test_header(&body, &rig.connect_webhook_secret, None);
    let delivered = rig
        .http
        .post(rig.url(0, "/v1/webhooks/stripe/connect"))
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(body)
        .send()
        .await
        .expect("delivery");
    assert!(
        delivered.status().is_success(),
        "{event_id}: {}",
        delivered.status()
    );
}

/// Waits (bounded) until onboarding has applied `event_id` (relayed by billing's outbox).
async fn applied(rig: &OnboardingRig, event_id: &str) {
    eventually(Duration::from_secs(20), async || {
        let seen: bool =
            sqlx::query_scalar("select exists (select 1 from connect_events where event_id = $1)")
                .bind(event_id)
                .fetch_one(&rig.db)
                .await
                .expect("query");
        seen.then_some(())
            .ok_or(format!("{event_id} never relayed"))
    })
    .await;
}

#[tokio::test]
async fn account_updated_relayed_by_billing_completes_only_when_requirements_are_met() {
    let rig = OnboardingRig::spawn().await;
    let payouts = started_payouts(&rig, false).await;
    let now = chrono::Utc::now().timestamp() + 60;

    deliver_account_updated(&rig, "evt_not_yet", now, false).await;
    applied(&rig, "evt_not_yet").await;
    assert_eq!(token_row(&rig, &payouts.tenant).await.0, "in_progress");

    deliver_account_updated(&rig, "evt_met", now + 1, true).await;
    applied(&rig, "evt_met").await;
    assert_eq!(token_row(&rig, &payouts.tenant).await.0, "complete");
    let account: Value = read_account(&rig, &payouts.owner, &payouts.tenant)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(account["account"]["status"], "complete", "{account}");

    // Stripe retries a delivery: acknowledged, applied once.
    deliver_account_updated(&rig, "evt_met", now + 1, true).await;
    // An older event arriving late never overwrites the newer state.
    deliver_account_updated(&rig, "evt_stale", now - 30, false).await;
    applied(&rig, "evt_stale").await;
    assert_eq!(token_row(&rig, &payouts.tenant).await.0, "complete");
    let applied_once: i64 =
        sqlx::query_scalar("select count(*) from connect_events where event_id = 'evt_met'")
            .fetch_one(&rig.db)
            .await
            .expect("count");
    assert_eq!(applied_once, 1);

    // A delivery Stripe did not sign is refused at billing and reaches nobody.
    let forged = rig
        .http
        .post(rig.url(0, "/v1/webhooks/stripe/connect"))
        .header("stripe-signature", "t=1,v1=forged")
        .body(r#"{"id": "evt_forged"}"#)
        .send()
        .await
        .expect("delivery");
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_explicit_refresh_completes_in_progress_tokens_only_when_stripe_says_so() {
    let rig = OnboardingRig::spawn().await;
    let payouts = started_payouts(&rig, false).await;
    let refresh = || {
        rig.authed(
            Method::POST,
            &format!(
                "/v1/onboarding/connect/account/refresh?tenant_id={}",
                payouts.tenant
            ),
            &payouts.owner,
        )
        .send()
    };

    let answer = refresh().await.expect("request");
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.expect("json");
    assert_eq!(body["account"]["status"], "onboarding");
    assert_eq!(token_row(&rig, &payouts.tenant).await.0, "in_progress");

    // Stripe fails: nothing changes, and the error says so.
    rig.stripe.mock.reset().await;
    Mock::given(method("GET"))
        .and(path_regex("^/v1/accounts/"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&rig.stripe.mock)
        .await;
    let failed = refresh().await.expect("request");
    assert_eq!(failed.status(), StatusCode::BAD_GATEWAY);
    let problem: Value = failed.json().await.expect("json");
    assert_eq!(problem["reason"], "STRIPE_UNAVAILABLE");
    assert_eq!(token_row(&rig, &payouts.tenant).await.0, "in_progress");

    mount_account_read(&rig, true).await;
    let body: Value = refresh()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(body["account"]["status"], "complete");
    assert_eq!(token_row(&rig, &payouts.tenant).await.0, "complete");
}

fn event(id: &str, created: i64, requirements_met: bool) -> ApplyConnectAccountUpdateRequest {
    ApplyConnectAccountUpdateRequest {
        event_id: id.to_owned(),
        event_created: Some(prost_types::Timestamp {
            seconds: created,
            nanos: 0,
        }),
        stripe_account_id: ACCOUNT.to_owned(),
        details_submitted: requirements_met,
        charges_enabled: requirements_met,
        payouts_enabled: requirements_met,
        requirements_currently_due: if requirements_met {
            vec![]
        } else {
            vec!["external_account".to_owned()]
        },
        ..ApplyConnectAccountUpdateRequest::default()
    }
}

#[tokio::test]
async fn a_tie_on_stripe_time_with_different_content_is_settled_by_reading_stripe() {
    let rig = OnboardingRig::spawn().await;
    // Stripe's account (the truth) is not complete, whatever the second event claims.
    let payouts = started_payouts(&rig, false).await;
    // The relay's own call, as billing makes it (an internal RPC, no membership involved).
    let mut grpc = OnboardingServiceClient::connect(rig.world.service_url("onboarding"))
        .await
        .expect("grpc");
    let at = chrono::Utc::now().timestamp() + 60;
    let mut apply = async |request| {
        grpc.apply_connect_account_update(request)
            .await
            .expect("applied")
            .into_inner()
    };
    let first = apply(event("evt_a", at, false)).await;
    assert_eq!(first.outcome(), ConnectUpdateOutcome::Applied);
    let reads_before = account_reads(&rig).await;

    let tie = apply(event("evt_b", at, true)).await;
    assert_eq!(tie.outcome(), ConnectUpdateOutcome::Applied);
    assert_eq!(
        account_reads(&rig).await,
        reads_before + 1,
        "Stripe was re-read"
    );
    assert_eq!(
        tie.account.expect("account").status,
        1,
        "Stripe's state, not the event's"
    );
    assert_eq!(token_row(&rig, &payouts.tenant).await.0, "in_progress");

    // Same time and the same content as mirrored is no tie: no read.
    let same = apply(ApplyConnectAccountUpdateRequest {
        requirements_currently_due: vec![
            "external_account".to_owned(),
            "individual.dob.day".to_owned(),
        ],
        ..event("evt_c", at, false)
    })
    .await;
    assert_eq!(same.outcome(), ConnectUpdateOutcome::Applied);
    assert_eq!(account_reads(&rig).await, reads_before + 1);

    let unknown = apply(ApplyConnectAccountUpdateRequest {
        stripe_account_id: "acct_unknown".to_owned(),
        ..event("evt_d", at + 2, true)
    })
    .await;
    assert_eq!(unknown.outcome(), ConnectUpdateOutcome::UnknownAccount);
    let missing = grpc
        .apply_connect_account_update(ApplyConnectAccountUpdateRequest::default())
        .await
        .expect_err("no event id");
    assert_eq!(missing.code(), tonic::Code::InvalidArgument);
}

#[tokio::test]
async fn a_newer_token_expires_the_older_one() {
    let rig = OnboardingRig::spawn().await;
    let payouts = tenant_with_token(&rig).await;
    mount_links(&rig, None).await;
    let newer = issue_token(&rig, &payouts.owner, &payouts.tenant).await;
    let superseded = start(&rig, &payouts.token).await;
    assert_eq!(superseded.status(), StatusCode::CONFLICT);
    assert_eq!(start(&rig, &newer).await.status(), 303);
    let statuses: Vec<String> = sqlx::query_scalar(
        "select status from onboarding_tokens where tenant_id = $1 order by created_at",
    )
    .bind(uuid::Uuid::parse_str(&payouts.tenant).expect("uuid"))
    .fetch_all(&rig.db)
    .await
    .expect("tokens");
    assert_eq!(statuses, ["expired", "in_progress"]);
}

#[tokio::test]
async fn expired_tokens_and_expired_states_are_refused() {
    let rig = OnboardingRig::spawn().await;
    let payouts = started_payouts(&rig, false).await;
    let state = latest_state(&rig).await;
    // Time passes (the clock is Postgres's): the link's state runs out first.
    sqlx::query("update onboarding_tokens set state_expires_at = now() - interval '1 second'")
        .execute(&rig.db)
        .await
        .expect("age the state");
    assert_eq!(back(&rig, &state).await.status(), StatusCode::BAD_REQUEST);

    // Then the token itself.
    let newer = issue_token(&rig, &payouts.owner, &payouts.tenant).await;
    sqlx::query("update onboarding_tokens set expires_at = now() - interval '1 second'")
        .execute(&rig.db)
        .await
        .expect("age the token");
    assert_eq!(start(&rig, &newer).await.status(), StatusCode::CONFLICT);
    assert_eq!(token_row(&rig, &payouts.tenant).await.0, "expired");
}
