//! Stripe Connect onboarding end to end: real gateway, real onboarding service and Postgres, and a
//! Stripe fake (wiremock) with failure injection.

use onramp_proto::{common::v1::Caller, onboarding::v1::CreateOnboardingTokenRequest};
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path, path_regex},
};

use crate::onboarding_support::OnboardingRig;

pub(crate) const ACCOUNT: &str = "acct_1OnrampTest";
const LINK: &str = "https://connect.stripe.test/setup/s/link";

pub(crate) fn account_json(requirements_met: bool) -> Value {
    let due: Vec<&str> = if requirements_met {
        vec![]
    } else {
        vec!["external_account", "individual.dob.day"]
    };
    json!({
        "id": ACCOUNT, "object": "account", "country": "US", "type": "express",
        "details_submitted": requirements_met, "charges_enabled": requirements_met,
        "payouts_enabled": requirements_met,
        "requirements": {"currently_due": due, "past_due": [], "pending_verification": [],
                         "eventually_due": [], "disabled_reason": null}
    })
}

fn link_json(n: u32) -> Value {
    let expires = chrono::Utc::now().timestamp() + 300;
    json!({"object": "account_link", "created": expires - 300, "expires_at": expires,
           "url": format!("{LINK}/{n}")})
}

/// A tenant with a connected account (created through the Stripe fake) and a fresh pending token.
pub(crate) async fn tenant_with_token(rig: &OnboardingRig) -> (Uuid, String) {
    Mock::given(method("POST"))
        .and(path("/v1/accounts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(account_json(false)))
        .mount(&rig.stripe)
        .await;
    let tenant = Uuid::new_v4();
    let country = onramp_onboarding::domain::connect::Country::parse("US").expect("country");
    let (_, created) = rig
        .connect
        .create_account(tenant, &country)
        .await
        .expect("account");
    assert!(created);
    let (token, _) = rig.connect.issue_token(tenant).await.expect("token");
    (tenant, token.expose().to_owned())
}

/// Account links answer `first` for the first call, then links numbered from 1.
pub(crate) async fn mount_links(rig: &OnboardingRig, first: Option<u16>) {
    if let Some(status) = first {
        Mock::given(method("POST"))
            .and(path("/v1/account_links"))
            .respond_with(ResponseTemplate::new(status).set_body_json(
                json!({"error": {"type": "api_error", "message": "injected failure"}}),
            ))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&rig.stripe)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/v1/account_links"))
        .respond_with(ResponseTemplate::new(200).set_body_json(link_json(1)))
        .with_priority(2)
        .mount(&rig.stripe)
        .await;
}

pub(crate) async fn mount_account_read(rig: &OnboardingRig, requirements_met: bool) {
    rig.stripe.reset().await;
    mount_links(rig, None).await;
    Mock::given(method("GET"))
        .and(path_regex("^/v1/accounts/acct_"))
        .respond_with(ResponseTemplate::new(200).set_body_json(account_json(requirements_met)))
        .mount(&rig.stripe)
        .await;
}

/// The `state` onboarding put in the return URL of its latest account-link request to Stripe.
pub(crate) async fn latest_state(rig: &OnboardingRig) -> String {
    let requests = rig.stripe.received_requests().await.expect("recording");
    let link = requests
        .iter()
        .rev()
        .find(|r| r.url.path() == "/v1/account_links")
        .expect("an account link request");
    let return_url = url::form_urlencoded::parse(&link.body)
        .find(|(k, _)| k == "return_url")
        .map(|(_, v)| v.into_owned())
        .expect("return_url");
    url::Url::parse(&return_url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state")
}

/// (status, has state, has state expiry) of the tenant's newest token.
pub(crate) async fn token_row(rig: &OnboardingRig, tenant: Uuid) -> (String, bool, bool) {
    sqlx::query_as(
        "select status, state_hash is not null, state_expires_at > now() from onboarding_tokens
         where tenant_id = $1 order by created_at desc limit 1",
    )
    .bind(tenant)
    .fetch_one(&rig.db)
    .await
    .map(|(s, h, e): (String, bool, Option<bool>)| (s, h, e.unwrap_or(false)))
    .expect("token row")
}

pub(crate) async fn start(rig: &OnboardingRig, token: &str) -> reqwest::Response {
    rig.http
        .get(rig.url(0, "/v1/onboarding/connect/start"))
        .query(&[("token", token)])
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn stripe_failure_answers_502_keeps_the_token_pending_and_the_retry_starts_it() {
    let rig = OnboardingRig::spawn(1).await;
    let (tenant, token) = tenant_with_token(&rig).await;
    mount_links(&rig, Some(500)).await;

    let failed = start(&rig, &token).await;
    assert_eq!(failed.status(), 502);
    let problem: Value = failed.json().await.expect("json");
    assert_eq!(problem["reason"], "STRIPE_UNAVAILABLE");
    assert_eq!(
        token_row(&rig, tenant).await,
        ("pending".to_owned(), false, false)
    );

    let started = start(&rig, &token).await;
    assert_eq!(started.status(), 303);
    assert_eq!(started.headers()["location"], format!("{LINK}/1").as_str());
    assert_eq!(
        token_row(&rig, tenant).await,
        ("in_progress".to_owned(), true, true)
    );

    // A started token cannot be started again (the refresh URL issues new links).
    let again = start(&rig, &token).await;
    assert_eq!(again.status(), 409);
    rig.stop().await;
}

#[tokio::test]
async fn the_account_is_created_once_with_an_idempotency_key_derived_from_the_tenant() {
    let rig = OnboardingRig::spawn(1).await;
    let (tenant, _) = tenant_with_token(&rig).await;
    let country = onramp_onboarding::domain::connect::Country::parse("US").expect("country");
    let (again, created) = rig
        .connect
        .create_account(tenant, &country)
        .await
        .expect("account");
    assert!(!created);
    assert_eq!(again.stripe_account_id, ACCOUNT);
    let requests = rig.stripe.received_requests().await.expect("recording");
    let creates: Vec<_> = requests
        .iter()
        .filter(|r| r.url.path() == "/v1/accounts")
        .collect();
    assert_eq!(creates.len(), 1, "one Stripe create for one tenant");
    assert_eq!(
        creates[0].headers["idempotency-key"],
        format!("onramp-connect-account-{tenant}").as_str()
    );
    rig.stop().await;
}

#[tokio::test]
async fn two_concurrent_starts_of_one_token_make_exactly_one_transition() {
    let rig = OnboardingRig::spawn(1).await;
    let (tenant, token) = tenant_with_token(&rig).await;
    mount_links(&rig, None).await;
    let (a, b) = tokio::join!(start(&rig, &token), start(&rig, &token));
    let mut statuses = vec![a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, vec![303, 409]);
    assert_eq!(
        token_row(&rig, tenant).await,
        ("in_progress".to_owned(), true, true)
    );
    rig.stop().await;
}

#[tokio::test]
async fn a_forged_or_reused_state_is_refused_and_the_return_never_completes_by_itself() {
    let rig = OnboardingRig::spawn(1).await;
    let (tenant, token) = tenant_with_token(&rig).await;
    mount_account_read(&rig, false).await;
    assert_eq!(start(&rig, &token).await.status(), 303);
    let state = latest_state(&rig).await;
    let back = |state: String| {
        rig.http
            .get(rig.url(0, "/v1/onboarding/connect/return"))
            .query(&[("state", state)])
            .send()
    };

    let forged = back("forged-state".to_owned()).await.expect("request");
    assert_eq!(forged.status(), 400);
    let problem: Value = forged.json().await.expect("json");
    assert_eq!(problem["field"], "state");

    let returned = back(state.clone()).await.expect("request");
    assert_eq!(returned.status(), 200);
    let body: Value = returned.json().await.expect("json");
    assert_eq!(body["token"]["status"], "in_progress", "{body}");
    assert_eq!(body["account"]["status"], "onboarding");
    assert_eq!(body["account_refreshed"], true);

    let reused = back(state).await.expect("request");
    assert_eq!(reused.status(), 400);
    assert_eq!(token_row(&rig, tenant).await.0, "in_progress");
    rig.stop().await;
}

#[tokio::test]
async fn the_refresh_url_issues_a_new_link_and_retires_the_old_state() {
    let rig = OnboardingRig::spawn(1).await;
    let (_, token) = tenant_with_token(&rig).await;
    mount_account_read(&rig, false).await;
    assert_eq!(start(&rig, &token).await.status(), 303);
    let first_state = latest_state(&rig).await;
    let refreshed = rig
        .http
        .get(rig.url(0, "/v1/onboarding/connect/refresh"))
        .query(&[("token", &token)])
        .send()
        .await
        .expect("request");
    assert_eq!(refreshed.status(), 303);
    let second_state = latest_state(&rig).await;
    assert_ne!(first_state, second_state);
    let old = rig
        .http
        .get(rig.url(0, "/v1/onboarding/connect/return"))
        .query(&[("state", first_state)])
        .send()
        .await
        .expect("request");
    assert_eq!(old.status(), 400);
    let new = rig
        .http
        .get(rig.url(0, "/v1/onboarding/connect/return"))
        .query(&[("state", second_state)])
        .send()
        .await
        .expect("request");
    assert_eq!(new.status(), 200);
    rig.stop().await;
}

#[tokio::test]
async fn unknown_and_missing_tokens_are_refused_with_clear_errors() {
    let rig = OnboardingRig::spawn(1).await;
    let unknown = start(&rig, "no-such-token").await;
    assert_eq!(unknown.status(), 404);
    let missing = rig
        .http
        .get(rig.url(0, "/v1/onboarding/connect/start"))
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 400);
    let problem: Value = missing.json().await.expect("json");
    assert_eq!(problem["field"], "token");
    rig.stop().await;
}

#[tokio::test]
async fn the_return_completes_only_when_the_account_read_from_stripe_meets_requirements() {
    let rig = OnboardingRig::spawn(1).await;
    let (tenant, token) = tenant_with_token(&rig).await;
    mount_account_read(&rig, true).await;
    assert_eq!(start(&rig, &token).await.status(), 303);
    let state = latest_state(&rig).await;
    let body: Value = rig
        .http
        .get(rig.url(0, "/v1/onboarding/connect/return"))
        .query(&[("state", state)])
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(body["account"]["status"], "complete", "{body}");
    assert_eq!(body["token"]["status"], "complete");
    assert_eq!(token_row(&rig, tenant).await.0, "complete");
    rig.stop().await;
}

#[tokio::test]
async fn tenant_scoped_connect_calls_refuse_non_members_and_fail_closed_without_tenancy() {
    let mut rig = OnboardingRig::spawn(1).await;
    let mut grpc = rig.grpc.clone();
    let request = || CreateOnboardingTokenRequest {
        caller: Some(Caller {
            user_id: Uuid::new_v4().to_string(),
            ..Caller::default()
        }),
        tenant_id: Uuid::new_v4().to_string(),
    };
    // Tenancy says this user is no member of that tenant: it does not exist for them.
    let refused = grpc
        .create_onboarding_token(request())
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), tonic::Code::NotFound);
    // With tenancy gone, membership cannot be checked: refused, never served unchecked.
    rig.stack
        .stack
        .stop_service("tenant-provisioning")
        .await
        .expect("tenancy stops");
    let unchecked = grpc
        .create_onboarding_token(request())
        .await
        .expect_err("refused");
    assert_eq!(unchecked.code(), tonic::Code::Unavailable);
    let anonymous = grpc
        .create_onboarding_token(CreateOnboardingTokenRequest {
            caller: None,
            tenant_id: Uuid::new_v4().to_string(),
        })
        .await
        .expect_err("refused");
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
    rig.stop().await;
}
