//! The setup checklist over HTTP with real sessions and real membership: steps that follow identity
//! (email verified), billing (plan active) and tenancy (a second member) change when those services
//! change; a context that is down or never answers makes its step UNKNOWN, fast, never an error.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::onboarding::{get_checklist, state_of, states};
use crate::support::{
    link_token, new_email,
    onboarding::{OnboardingRig, RigOptions},
};

/// Far above the checklist's 300 ms peer deadline, far below the 10 s a hung call would take.
const BOUND: Duration = Duration::from_secs(5);

#[tokio::test]
async fn the_checklist_follows_email_verification_plan_activation_and_a_second_member() {
    let rig = OnboardingRig::spawn().await;
    let email = new_email();
    // Within identity's grace period: signed in, not verified yet.
    let owner = rig.world.unverified_user_with_email(&email).await;
    let tenant = rig.workspace(&owner).await;

    let fresh = get_checklist(&rig, &owner, &tenant).await;
    assert_eq!(
        states(&fresh),
        [
            ("verify_email", "pending"),
            ("choose_plan", "pending"),
            ("invite_teammates", "pending"),
            ("connect_payouts", "pending"),
            ("first_setup", "pending"),
        ]
        .map(|(id, state)| (id.to_owned(), state.to_owned()))
    );
    assert_eq!(fresh["next_step_id"], "verify_email");
    assert_eq!(fresh["tenant_id"], tenant.as_str());

    let mail = rig.world.nth_mail(&email, 1).await;
    let verified = rig
        .http
        .post(rig.url(0, "/v1/auth/verify-email"))
        .json(&json!({ "token": link_token(&mail) }))
        .send()
        .await
        .expect("verify");
    assert_eq!(verified.status(), StatusCode::OK);
    let after_verify = get_checklist(&rig, &owner, &tenant).await;
    assert_eq!(state_of(&after_verify, "verify_email"), "done");
    assert_eq!(after_verify["next_step_id"], "choose_plan");

    // The manual provider starts the free plan without a card: billing says the plan is active.
    let started = rig
        .authed(Method::POST, "/v1/billing/start", &owner)
        .json(&json!({ "tenant_id": tenant, "plan_id": "free" }))
        .send()
        .await
        .expect("start plan");
    assert!(started.status().is_success(), "{}", started.status());
    let after_plan = get_checklist(&rig, &owner, &tenant).await;
    assert_eq!(state_of(&after_plan, "choose_plan"), "done");
    assert_eq!(state_of(&after_plan, "invite_teammates"), "pending");

    let teammate = rig.teammate(&owner, &tenant).await;
    let after_invite = get_checklist(&rig, &owner, &tenant).await;
    assert_eq!(state_of(&after_invite, "invite_teammates"), "done");
    assert_eq!(after_invite["next_step_id"], "connect_payouts");
    assert_eq!(after_invite["done_count"], 3);

    // The teammate is a member now: their own checklist of the same workspace.
    let theirs = get_checklist(&rig, &teammate, &tenant).await;
    assert_eq!(state_of(&theirs, "verify_email"), "done");
    assert_eq!(state_of(&theirs, "invite_teammates"), "done");
}

#[tokio::test]
async fn steps_of_stopped_contexts_are_unknown_and_without_tenancy_nothing_is_served() {
    let mut rig = OnboardingRig::spawn().await;
    let owner = rig.world.verified_user().await;
    let tenant = rig.workspace(&owner).await;
    for service in ["identity", "billing"] {
        rig.world.stack.stop_service(service).await.expect("stops");
    }
    let view = tokio::time::timeout(BOUND, get_checklist(&rig, &owner, &tenant))
        .await
        .expect("answers within its peer deadlines");
    assert_eq!(
        states(&view),
        [
            ("verify_email", "unknown"),
            ("choose_plan", "unknown"),
            ("invite_teammates", "pending"),
            ("connect_payouts", "pending"),
            ("first_setup", "pending"),
        ]
        .map(|(id, state)| (id.to_owned(), state.to_owned()))
    );
    // The next-step card skips what nobody can tell.
    assert_eq!(view["next_step_id"], "invite_teammates");
    assert_eq!(view["finished"], false);

    // Membership cannot be checked without tenancy: refused, never served unchecked.
    rig.world
        .stack
        .stop_service("tenant-provisioning")
        .await
        .expect("stops");
    let unchecked = rig
        .authed(
            Method::GET,
            &format!("/v1/onboarding?tenant_id={tenant}"),
            &owner,
        )
        .send()
        .await
        .expect("request");
    assert_eq!(unchecked.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_peer_that_never_answers_makes_its_step_unknown_within_the_deadline() {
    // Accepts TCP connections (the kernel's backlog) and never speaks HTTP/2.
    let blackhole = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = format!("http://{}", blackhole.local_addr().expect("addr"));
    let rig = OnboardingRig::spawn_with(RigOptions {
        identity_and_billing_addr: Some(addr),
        ..RigOptions::default()
    })
    .await;
    let owner = rig.world.verified_user().await;
    let tenant = rig.workspace(&owner).await;
    let view = tokio::time::timeout(BOUND, get_checklist(&rig, &owner, &tenant))
        .await
        .expect("answers within its peer deadlines");
    assert_eq!(state_of(&view, "verify_email"), "unknown");
    assert_eq!(state_of(&view, "choose_plan"), "unknown");
    assert_eq!(state_of(&view, "invite_teammates"), "pending");
    drop(blackhole);
}

#[tokio::test]
async fn the_checklist_routes_refuse_anonymous_callers_and_other_workspaces_users() {
    let rig = OnboardingRig::spawn().await;
    let owner = rig.world.verified_user().await;
    let tenant = rig.workspace(&owner).await;
    let stranger = rig.world.verified_user().await;
    // The stranger has a workspace of their own; it gives them nothing in the owner's.
    let _theirs = rig.workspace(&stranger).await;
    let routes = [
        (Method::GET, format!("/v1/onboarding?tenant_id={tenant}")),
        (
            Method::PATCH,
            format!("/v1/onboarding/steps/connect_payouts?tenant_id={tenant}"),
        ),
        (
            Method::POST,
            format!("/v1/onboarding/dismiss-rest?tenant_id={tenant}"),
        ),
    ];
    for (method, path) in &routes {
        let body = json!({ "action": "dismiss" });
        let anonymous = rig
            .http
            .request(method.clone(), rig.url(0, path))
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{path}");
        let foreign = rig
            .authed(method.clone(), path, &stranger)
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(foreign.status(), StatusCode::NOT_FOUND, "{path}");
        let problem: Value = foreign.json().await.expect("json");
        assert_eq!(problem["reason"], "NOT_FOUND");
    }
    // Nothing the stranger sent changed the owner's checklist.
    let view = get_checklist(&rig, &owner, &tenant).await;
    assert_eq!(state_of(&view, "connect_payouts"), "pending");
    assert_eq!(view["rest_dismissed"], false);

    let malformed = rig
        .authed(Method::GET, "/v1/onboarding?tenant_id=not-a-uuid", &owner)
        .send()
        .await
        .expect("request");
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let problem: Value = malformed.json().await.expect("json");
    assert_eq!(problem["field"], "tenant_id");
}
