//! Stripe Connect onboarding over HTTP for a real workspace: its owner (a real session, checked by
//! tenancy's membership gate) creates the connected account and a token through the gateway; the
//! browser follows the public start, refresh and return links. Stripe is a fake (wiremock) with
//! failure injection.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::onboarding::{
    ACCOUNT, LINK, OnboardingRig, back, create_account, create_token, follow, latest_state,
    mount_links, read_account, start, started_payouts, tenant_with_token, token_row,
};

#[tokio::test]
async fn stripe_failure_answers_502_keeps_the_token_pending_and_the_retry_starts_it() {
    let rig = OnboardingRig::spawn().await;
    let payouts = tenant_with_token(&rig).await;
    mount_links(&rig, Some(500)).await;

    let failed = start(&rig, &payouts.token).await;
    assert_eq!(failed.status(), StatusCode::BAD_GATEWAY);
    let problem: Value = failed.json().await.expect("json");
    assert_eq!(problem["reason"], "STRIPE_UNAVAILABLE");
    assert_eq!(
        token_row(&rig, &payouts.tenant).await,
        ("pending".to_owned(), false, false)
    );

    let started = start(&rig, &payouts.token).await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    assert_eq!(started.headers()["location"], format!("{LINK}/1").as_str());
    assert_eq!(
        token_row(&rig, &payouts.tenant).await,
        ("in_progress".to_owned(), true, true)
    );
    // The owner sees the same through the account route.
    let account: Value = read_account(&rig, &payouts.owner, &payouts.tenant)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        account["latest_token"]["status"], "in_progress",
        "{account}"
    );
    assert!(account["latest_token"]["state_expires_at"].is_string());

    // A started token cannot be started again (the refresh URL issues new links).
    let again = start(&rig, &payouts.token).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_account_is_created_once_with_an_idempotency_key_derived_from_the_tenant() {
    let rig = OnboardingRig::spawn().await;
    let payouts = tenant_with_token(&rig).await;
    let again = create_account(&rig, &payouts.owner, &payouts.tenant).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["created"], false);
    assert_eq!(again["account"]["stripe_account_id"], ACCOUNT);
    let requests = rig.stripe.requests().await;
    let creates: Vec<_> = requests
        .iter()
        .filter(|r| r.url.path() == "/v1/accounts")
        .collect();
    assert_eq!(creates.len(), 1, "one Stripe create for one tenant");
    assert_eq!(
        creates[0].headers["idempotency-key"],
        format!("onramp-connect-account-{}", payouts.tenant).as_str()
    );
}

#[tokio::test]
async fn two_concurrent_starts_of_one_token_make_exactly_one_transition() {
    let rig = OnboardingRig::spawn().await;
    let payouts = tenant_with_token(&rig).await;
    mount_links(&rig, None).await;
    let (a, b) = tokio::join!(start(&rig, &payouts.token), start(&rig, &payouts.token));
    let mut statuses = vec![a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, vec![303, 409]);
    assert_eq!(
        token_row(&rig, &payouts.tenant).await,
        ("in_progress".to_owned(), true, true)
    );
    let states: i64 =
        sqlx::query_scalar("select count(*) from onboarding_tokens where state_hash is not null")
            .fetch_one(&rig.db)
            .await
            .expect("count");
    assert_eq!(states, 1, "one state minted, for the winning link");
}

#[tokio::test]
async fn a_forged_or_reused_state_is_refused_and_the_return_never_completes_by_itself() {
    let rig = OnboardingRig::spawn().await;
    let payouts = started_payouts(&rig, false).await;
    let state = latest_state(&rig).await;

    let forged = back(&rig, "forged-state").await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let problem: Value = forged.json().await.expect("json");
    assert_eq!(problem["field"], "state");

    let returned = back(&rig, &state).await;
    assert_eq!(returned.status(), StatusCode::OK);
    let body: Value = returned.json().await.expect("json");
    assert_eq!(body["token"]["status"], "in_progress", "{body}");
    assert_eq!(body["account"]["status"], "onboarding");
    assert_eq!(body["account_refreshed"], true);

    let reused = back(&rig, &state).await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(token_row(&rig, &payouts.tenant).await.0, "in_progress");
}

#[tokio::test]
async fn the_refresh_url_issues_a_new_link_and_retires_the_old_state() {
    let rig = OnboardingRig::spawn().await;
    let payouts = started_payouts(&rig, false).await;
    let first_state = latest_state(&rig).await;
    let refreshed = follow(&rig, "refresh", ("token", &payouts.token)).await;
    assert_eq!(refreshed.status(), StatusCode::SEE_OTHER);
    let second_state = latest_state(&rig).await;
    assert_ne!(first_state, second_state);
    assert_eq!(back(&rig, &first_state).await.status(), 400);
    assert_eq!(back(&rig, &second_state).await.status(), 200);
}

#[tokio::test]
async fn unknown_and_missing_tokens_are_refused_with_clear_errors() {
    let rig = OnboardingRig::spawn().await;
    let unknown = start(&rig, "no-such-token").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let missing = rig
        .http
        .get(rig.url(0, "/v1/onboarding/connect/start"))
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let problem: Value = missing.json().await.expect("json");
    assert_eq!(problem["field"], "token");
}

#[tokio::test]
async fn the_return_completes_only_when_the_account_read_from_stripe_meets_requirements() {
    let rig = OnboardingRig::spawn().await;
    let payouts = started_payouts(&rig, true).await;
    let state = latest_state(&rig).await;
    let body: Value = back(&rig, &state).await.json().await.expect("json");
    assert_eq!(body["account"]["status"], "complete", "{body}");
    assert_eq!(body["token"]["status"], "complete");
    assert_eq!(token_row(&rig, &payouts.tenant).await.0, "complete");
}

#[tokio::test]
async fn connect_management_needs_an_owner_or_admin_of_the_workspace() {
    let mut rig = OnboardingRig::spawn().await;
    let payouts = tenant_with_token(&rig).await;
    let stranger = rig.world.verified_user().await;
    let _own = rig.workspace(&stranger).await;
    let teammate = rig.teammate(&payouts.owner, &payouts.tenant).await;

    // Another workspace's user: the workspace does not exist for them.
    assert_eq!(
        create_token(&rig, &stranger, &payouts.tenant)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        create_account(&rig, &stranger, &payouts.tenant)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let read = read_account(&rig, &stranger, &payouts.tenant).await;
    assert_eq!(read.status(), StatusCode::NOT_FOUND);
    // A plain member sees the account but may not manage payouts.
    let seen = read_account(&rig, &teammate, &payouts.tenant).await;
    assert_eq!(seen.status(), StatusCode::OK);
    let member = create_token(&rig, &teammate, &payouts.tenant).await;
    assert_eq!(member.status(), StatusCode::FORBIDDEN);
    // No token was issued by either refusal.
    let tokens: i64 = sqlx::query_scalar("select count(*) from onboarding_tokens")
        .fetch_one(&rig.db)
        .await
        .expect("count");
    assert_eq!(tokens, 1);
    let anonymous = rig
        .http
        .post(rig.url(
            0,
            &format!("/v1/onboarding/connect/tokens?tenant_id={}", payouts.tenant),
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // With tenancy gone, membership cannot be checked: refused, never served unchecked.
    rig.world
        .stack
        .stop_service("tenant-provisioning")
        .await
        .expect("tenancy stops");
    let unchecked = create_token(&rig, &payouts.owner, &payouts.tenant).await;
    assert_eq!(unchecked.status(), StatusCode::SERVICE_UNAVAILABLE);
}
