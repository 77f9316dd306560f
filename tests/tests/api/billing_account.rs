//! The signed-in billing routes over HTTP with real sessions: a member's success paths (summary with
//! the trial state, usage with limits, portal before and after a customer exists, Checkout), seats
//! counted from tenancy's memberships, and a user of another workspace seeing nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{
    TestStack,
    billing::{add_plan, assert_url_under, paid_plan, provision, stripe_world, subscription},
    link_param, new_email,
    stripe::{LocalStripeCalls as _, StripeFake, new_webhook_secret},
};

/// Invites `email` into the tenant as a member through the gateway and accepts as `invitee`.
async fn join(
    world: &TestStack,
    owner: &crate::support::User,
    tenant: &str,
    invitee: &crate::support::User,
) {
    let (status, created) = world
        .post_as(
            owner,
            &format!("/v1/tenants/{tenant}/invites"),
            json!({"invites": [{"email": invitee.email, "role": "member"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let code = match created["results"][0]["code"].as_str() {
        Some(code) if !code.is_empty() => code.to_owned(),
        // The code travels by mail when the answer does not carry it.
        _ => link_param(&world.nth_mail(&invitee.email, 2).await, "code"),
    };
    let accepted = world
        .authed(
            Method::POST,
            &format!("/v1/invites/{code}/accept"),
            &invitee.access_token,
        )
        .send()
        .await
        .expect("accept");
    assert_eq!(accepted.status(), StatusCode::OK, "accept");
}

#[tokio::test]
async fn members_use_billing_and_seats_follow_memberships() {
    let fake = StripeFake::start().await;
    let world = stripe_world(&fake, &new_webhook_secret()).await;
    let price = fake.localstripe.create_price(4900).await;
    add_plan(&world, paid_plan("team", &price, 5)).await;
    let owner = world.verified_user().await;
    // `pro` has a 14-day trial without a card: active at once.
    let provisioned = provision(&world, &owner, "Trial Co", "pro").await;
    let tenant = provisioned["tenant"]["id"].as_str().expect("id").to_owned();
    assert_eq!(provisioned["status"]["state"], "active");

    let (status, summary) = subscription(&world, &owner, &tenant).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["plan"]["code"], "pro");
    assert_eq!(summary["trial_state"], "pristine", "{summary}");
    assert!(
        matches!(summary["trial_days_left"].as_i64(), Some(13 | 14)),
        "{summary}"
    );
    assert_eq!(summary["has_billing_account"], false);

    let (status, problem) = world
        .post_as(&owner, "/v1/billing/portal", json!({"tenant_id": tenant}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["reason"], "NO_BILLING_ACCOUNT");

    let (status, usage) = world
        .get_as(&owner, &format!("/v1/usage/seats?tenant_id={tenant}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{usage}");
    assert_eq!(
        (usage["used"].as_i64(), usage["limit"].as_i64()),
        (Some(1), Some(50))
    );
    let (status, usage) = world
        .get_as(&owner, &format!("/v1/usage/projects?tenant_id={tenant}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{usage}");
    assert_eq!(usage["used"], 0);
    assert!(usage["limit"].is_null(), "unlimited on pro: {usage}");
    let (status, problem) = world
        .get_as(&owner, &format!("/v1/usage/widgets?tenant_id={tenant}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");

    // A second member joins through the invite flow: two seats used.
    let member = world.verified_user_with_email(&new_email()).await;
    join(&world, &owner, &tenant, &member).await;
    let (_, usage) = world
        .get_as(&member, &format!("/v1/usage/seats?tenant_id={tenant}"))
        .await;
    assert_eq!(usage["used"], 2, "{usage}");

    // Upgrading: more seats than the plan allows, or fewer than the members, is refused naming the
    // field; within both, a URL.
    for seats in [6, 1] {
        let (status, problem) = world
            .post_as(
                &owner,
                "/v1/billing/checkout",
                json!({"tenant_id": tenant, "plan_id": "team", "seats": seats}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{seats}: {problem}");
        assert_eq!(problem["field"], "seats", "{seats}");
    }
    let (status, answer) = world
        .post_as(
            &owner,
            "/v1/billing/checkout",
            json!({"tenant_id": tenant, "plan_id": "team", "seats": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_url_under(&answer, "checkout_url", "https://checkout.stripe.test/");
    let customer = fake.sessions()[0].field("customer").to_owned();

    // Checkout made the customer: the portal opens for it now.
    let (status, portal) = world
        .post_as(&owner, "/v1/billing/portal", json!({"tenant_id": tenant}))
        .await;
    assert_eq!(status, StatusCode::OK, "{portal}");
    assert_url_under(&portal, "portal_url", "https://billing.stripe.test/");
    assert_eq!(fake.portal_customers(), [customer]);

    // A user of another workspace sees none of it.
    let stranger = world.verified_user().await;
    provision(&world, &stranger, "Elsewhere", "pro").await;
    let reads = [
        format!("/v1/billing/subscription?tenant_id={tenant}"),
        format!("/v1/usage/seats?tenant_id={tenant}"),
    ];
    for path in reads {
        let (status, problem) = world.get_as(&stranger, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {problem}");
    }
    for (path, body) in [
        ("/v1/billing/portal", json!({"tenant_id": tenant})),
        (
            "/v1/billing/checkout",
            json!({"tenant_id": tenant, "plan_id": "team", "seats": 1}),
        ),
    ] {
        let (status, problem) = world.post_as(&stranger, path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {problem}");
    }
    assert_eq!(fake.sessions().len(), 1, "the stranger created nothing");
}
