//! Connect state from Stripe: explicit refreshes, version ties settled by re-reading Stripe, and
//! superseded tokens.

use onramp_onboarding::OnboardingError;
use onramp_proto::onboarding::v1::{ApplyConnectAccountUpdateRequest, ConnectUpdateOutcome};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path_regex},
};

use crate::{
    onboarding_connect::{
        ACCOUNT, mount_account_read, mount_links, start, tenant_with_token, token_row,
    },
    onboarding_support::OnboardingRig,
};

async fn account_reads(rig: &OnboardingRig) -> usize {
    let requests = rig.stripe.received_requests().await.expect("recording");
    requests
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path() == format!("/v1/accounts/{ACCOUNT}"))
        .count()
}

#[tokio::test]
async fn an_explicit_refresh_completes_in_progress_tokens_only_when_stripe_says_so() {
    let rig = OnboardingRig::spawn(1).await;
    let (tenant, token) = tenant_with_token(&rig).await;
    mount_account_read(&rig, false).await;
    assert_eq!(start(&rig, &token).await.status(), 303);

    let (account, completed) = rig
        .connect
        .refresh_account(tenant)
        .await
        .expect("refreshed");
    assert_eq!((account.status.as_str(), completed), ("onboarding", 0));
    assert_eq!(token_row(&rig, tenant).await.0, "in_progress");

    // Stripe fails: nothing changes, and the error says so.
    rig.stripe.reset().await;
    Mock::given(method("GET"))
        .and(path_regex("^/v1/accounts/"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&rig.stripe)
        .await;
    let failed = rig
        .connect
        .refresh_account(tenant)
        .await
        .expect_err("stripe down");
    assert!(matches!(failed, OnboardingError::Stripe(_)));
    assert_eq!(token_row(&rig, tenant).await.0, "in_progress");

    mount_account_read(&rig, true).await;
    let (account, completed) = rig
        .connect
        .refresh_account(tenant)
        .await
        .expect("refreshed");
    assert_eq!((account.status.as_str(), completed), ("complete", 1));
    assert_eq!(token_row(&rig, tenant).await.0, "complete");
    rig.stop().await;
}

#[tokio::test]
async fn a_tie_on_stripe_time_with_different_content_is_settled_by_reading_stripe() {
    let rig = OnboardingRig::spawn(1).await;
    let (tenant, token) = tenant_with_token(&rig).await;
    // Stripe's account (the truth) is not complete, whatever the second event claims.
    mount_account_read(&rig, false).await;
    assert_eq!(start(&rig, &token).await.status(), 303);
    let mut grpc = rig.grpc.clone();
    let at = chrono::Utc::now().timestamp() + 60;
    let first = grpc
        .apply_connect_account_update(event("evt_a", at, false))
        .await
        .expect("applied")
        .into_inner();
    assert_eq!(first.outcome(), ConnectUpdateOutcome::Applied);
    let reads_before = account_reads(&rig).await;

    let tie = grpc
        .apply_connect_account_update(event("evt_b", at, true))
        .await
        .expect("applied")
        .into_inner();
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
    assert_eq!(token_row(&rig, tenant).await.0, "in_progress");

    // Same time and the same content as mirrored is no tie: no read.
    let same = grpc
        .apply_connect_account_update(ApplyConnectAccountUpdateRequest {
            requirements_currently_due: vec![
                "external_account".to_owned(),
                "individual.dob.day".to_owned(),
            ],
            ..event("evt_c", at, false)
        })
        .await
        .expect("applied")
        .into_inner();
    assert_eq!(same.outcome(), ConnectUpdateOutcome::Applied);
    assert_eq!(account_reads(&rig).await, reads_before + 1);
    rig.stop().await;
}

#[tokio::test]
async fn a_newer_token_expires_the_older_one() {
    let rig = OnboardingRig::spawn(1).await;
    let (tenant, older) = tenant_with_token(&rig).await;
    mount_links(&rig, None).await;
    let (newer, _) = rig.connect.issue_token(tenant).await.expect("token");
    let superseded = start(&rig, &older).await;
    assert_eq!(superseded.status(), 409);
    assert_eq!(start(&rig, newer.expose()).await.status(), 303);
    let statuses: Vec<String> = sqlx::query_scalar(
        "select status from onboarding_tokens where tenant_id = $1 order by created_at",
    )
    .bind(tenant)
    .fetch_all(&rig.db)
    .await
    .expect("tokens");
    assert_eq!(statuses, ["expired", "in_progress"]);
    rig.stop().await;
}

#[tokio::test]
async fn expired_tokens_and_expired_states_are_refused() {
    let rig = OnboardingRig::spawn(1).await;
    let (tenant, token) = tenant_with_token(&rig).await;
    mount_account_read(&rig, false).await;
    assert_eq!(start(&rig, &token).await.status(), 303);
    let state = crate::onboarding_connect::latest_state(&rig).await;
    // Time passes (the clock is Postgres's): the link's state runs out first.
    sqlx::query("update onboarding_tokens set state_expires_at = now() - interval '1 second'")
        .execute(&rig.db)
        .await
        .expect("age the state");
    let late = rig
        .http
        .get(rig.url(0, "/v1/onboarding/connect/return"))
        .query(&[("state", state)])
        .send()
        .await
        .expect("request");
    assert_eq!(late.status(), 400);

    // Then the token itself.
    let (newer, _) = rig.connect.issue_token(tenant).await.expect("token");
    sqlx::query("update onboarding_tokens set expires_at = now() - interval '1 second'")
        .execute(&rig.db)
        .await
        .expect("age the token");
    assert_eq!(start(&rig, newer.expose()).await.status(), 409);
    assert_eq!(token_row(&rig, tenant).await.0, "expired");
    rig.stop().await;
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
async fn complete_comes_only_from_stripe_account_state_exactly_once_per_event() {
    let rig = OnboardingRig::spawn(1).await;
    let (tenant, token) = tenant_with_token(&rig).await;
    mount_account_read(&rig, false).await;
    assert_eq!(start(&rig, &token).await.status(), 303);
    let mut grpc = rig.grpc.clone();
    let now = chrono::Utc::now().timestamp() + 60;

    let not_yet = grpc
        .apply_connect_account_update(event("evt_1", now, false))
        .await
        .expect("applied")
        .into_inner();
    assert_eq!(not_yet.outcome(), ConnectUpdateOutcome::Applied);
    assert_eq!(token_row(&rig, tenant).await.0, "in_progress");

    let met = grpc
        .apply_connect_account_update(event("evt_2", now + 1, true))
        .await
        .expect("applied")
        .into_inner();
    assert_eq!(met.outcome(), ConnectUpdateOutcome::Applied);
    assert_eq!(token_row(&rig, tenant).await.0, "complete");

    let duplicate = grpc
        .apply_connect_account_update(event("evt_2", now + 1, true))
        .await
        .expect("answered")
        .into_inner();
    assert_eq!(duplicate.outcome(), ConnectUpdateOutcome::Duplicate);

    // An older event arriving late never overwrites the newer state.
    let stale = grpc
        .apply_connect_account_update(event("evt_0", now - 30, false))
        .await
        .expect("answered")
        .into_inner();
    assert_eq!(stale.outcome(), ConnectUpdateOutcome::Stale);
    assert_eq!(stale.account.expect("account").status, 4, "still complete");

    let unknown = grpc
        .apply_connect_account_update(ApplyConnectAccountUpdateRequest {
            stripe_account_id: "acct_unknown".to_owned(),
            ..event("evt_3", now + 2, true)
        })
        .await
        .expect("answered")
        .into_inner();
    assert_eq!(unknown.outcome(), ConnectUpdateOutcome::UnknownAccount);

    let missing = grpc
        .apply_connect_account_update(ApplyConnectAccountUpdateRequest::default())
        .await
        .expect_err("no event id");
    assert_eq!(missing.code(), tonic::Code::InvalidArgument);
    rig.stop().await;
}
