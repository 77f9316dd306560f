//! An invite code never proves an address (issue 12, item 1). The inviter sees the code (in the create
//! answer and the link), so a signup carrying it must not make the invited address verified: the
//! account starts unverified, gets the normal verification mail, and cannot accept the invite (or be
//! trusted for linking) until the mailed link is used.

use reqwest::StatusCode;

use crate::support::{
    TestStack, me_json,
    oauth::{browser, sign_in_as, world_with_provider},
    problem, signup_with_invite,
    tenancy::{accept, invite, new_tenant},
    verify_from_mail,
};

#[tokio::test]
async fn a_signup_with_the_invite_code_leaves_the_invited_address_unverified_until_the_mailed_link()
{
    let world = TestStack::with_mail().await;
    let inviter = world.verified_user().await;
    let tenant = new_tenant(&world, &inviter, "Mallory Co").await;
    let victim = format!("ceo-{}@victim.example", uuid::Uuid::new_v4().simple());
    let code = invite(&world, &inviter, &tenant, &victim, "admin").await;

    // The inviter read the code from the 201 and signs up as the victim with it.
    let signed_up = signup_with_invite(&world, &victim, "Not The CEO", &code).await;
    assert_eq!(signed_up.status(), StatusCode::ACCEPTED);
    let holder = world.logged_in(&victim).await;
    let me = me_json(&world, &holder.access_token).await;
    assert_eq!(me["email_verified"], false, "{me}");
    // Without the mailbox the holder of the code cannot join.
    let (status, refused) = accept(&world, &holder, &code).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["reason"], "EMAIL_VERIFICATION_REQUIRED");

    // Whoever reads the mailbox gets the normal verification mail; its link proves the address.
    verify_from_mail(&world, &victim).await;
    let me = me_json(&world, &holder.access_token).await;
    assert_eq!(me["email_verified"], true, "{me}");
    let (status, accepted) = accept(&world, &holder, &code).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["membership"]["role"], "admin");
}

#[tokio::test]
async fn the_real_owners_provider_login_never_links_into_an_account_made_with_the_code() {
    let http = browser();
    let (world, provider) = world_with_provider(&http).await;
    let inviter = world.verified_user().await;
    let tenant = new_tenant(&world, &inviter, "Pre-owned Co").await;
    let victim = format!("ceo-{}@victim.example", uuid::Uuid::new_v4().simple());
    let code = invite(&world, &inviter, &tenant, &victim, "admin").await;
    let signed_up = signup_with_invite(&world, &victim, "Not The CEO", &code).await;
    assert_eq!(signed_up.status(), StatusCode::ACCEPTED);

    // The victim signs in with a provider that vouches for the address: the inviter's account is
    // not proven, so the provider login is not handed to it (nor it to the provider login).
    let sub = format!("sub-{}", uuid::Uuid::new_v4().simple());
    let owner = sign_in_as(&world, &http, &provider, &sub, (&victim, true)).await;
    let refused = problem(owner, 409).await;
    assert_eq!(refused["reason"], "EMAIL_ALREADY_REGISTERED_USE_LOGIN");
}
