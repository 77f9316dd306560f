//! An invite carried through OAuth sign-in: identity resolves the code with tenancy before it makes
//! the account, so only the invited address gets in with it; the invitee then accepts signed in.
//! The owner signs in through the same provider (a verified provider address needs no mail). The
//! code itself proves nothing: a provider that does not assert `email_verified` leaves the invitee
//! unverified until the mailed link, invite or not.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::{
    TestStack, User, me_json, new_email,
    oauth::{Provider, browser, sign_in_carrying, world_with_provider},
    tenancy::{accept, invite, new_tenant},
    verify_from_mail,
};

/// Signs `email` in through the provider as a new provider user (whose address the provider calls
/// verified, or not), carrying `invite_code` if any.
async fn oauth_sign_in(
    world: &TestStack,
    http: &reqwest::Client,
    provider: &Provider,
    email: (&str, bool),
    invite_code: Option<&str>,
) -> reqwest::Response {
    let sub = format!("sub-{}", uuid::Uuid::new_v4().simple());
    sign_in_carrying(world, http, provider, &sub, email, invite_code).await
}

/// The signed-in user an OAuth callback answered with.
async fn user_of(world: &TestStack, email: &str, response: reqwest::Response) -> User {
    assert_eq!(response.status(), StatusCode::OK, "callback");
    let login: Value = response.json().await.expect("json");
    let access_token = login["session"]["access_token"]
        .as_str()
        .expect("access")
        .to_owned();
    world.user_with_token(email, access_token).await
}

#[tokio::test]
async fn an_oauth_sign_in_carrying_an_invite_code_admits_only_the_invited_address() {
    let http = browser();
    let (world, provider) = world_with_provider(&http).await;
    let owner_email = new_email();
    let signed_in = oauth_sign_in(&world, &http, &provider, (&owner_email, true), None).await;
    let owner = user_of(&world, &owner_email, signed_in).await;
    let tenant = new_tenant(&world, &owner, "Federated Co").await;
    let invitee = new_email();
    let code = invite(&world, &owner, &tenant, &invitee, "admin").await;

    // An unknown code, and the right code at another provider address, make no account.
    let unknown = oauth_sign_in(
        &world,
        &http,
        &provider,
        (&invitee, true),
        Some("no-such-code"),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let stranger = new_email();
    let refused = oauth_sign_in(&world, &http, &provider, (&stranger, true), Some(&code)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let refused: Value = refused.json().await.expect("json");
    assert_eq!(refused["reason"], "PERMISSION_DENIED", "{refused}");

    // The invited address gets in, and joins as the invite says once it accepts.
    let joined = oauth_sign_in(&world, &http, &provider, (&invitee, true), Some(&code)).await;
    let jane = user_of(&world, &invitee, joined).await;
    let (status, accepted) = accept(&world, &jane, &code).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["membership"]["role"], "admin");
    let members: Value = world
        .authed(
            Method::GET,
            &format!("/v1/tenants/{tenant}/members"),
            &owner.access_token,
        )
        .send()
        .await
        .expect("members")
        .json()
        .await
        .expect("json");
    let members = members["members"].as_array().expect("members");
    assert_eq!(members.len(), 2, "{members:?}");
}

#[tokio::test]
async fn an_invite_code_does_not_verify_an_address_the_provider_left_unverified() {
    let http = browser();
    let (world, provider) = world_with_provider(&http).await;
    let owner = world.verified_user().await;
    let tenant = new_tenant(&world, &owner, "Unproven Co").await;
    let invitee = new_email();
    let code = invite(&world, &owner, &tenant, &invitee, "member").await;

    let signed_in = oauth_sign_in(&world, &http, &provider, (&invitee, false), Some(&code)).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let body: Value = signed_in.json().await.expect("json");
    assert_eq!(body["user_created"], true, "{body}");
    assert_eq!(body["email_verified"], false, "{body}");
    let access_token = body["session"]["access_token"]
        .as_str()
        .expect("access")
        .to_owned();
    let me = me_json(&world, &access_token).await;
    assert_eq!(me["email_verified"], false, "{me}");
    let jane = User {
        email: invitee.clone(),
        id: me["id"].as_str().expect("id").to_owned(),
        access_token,
    };
    let (status, refused) = accept(&world, &jane, &code).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["reason"], "EMAIL_VERIFICATION_REQUIRED");

    verify_from_mail(&world, &invitee).await;
    let (status, accepted) = accept(&world, &jane, &code).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
}
