//! An invite code never proves an address (issue 12, item 1). The inviter sees the code (in the create
//! answer and the link), so a signup carrying it must not make the invited address verified: the
//! account starts unverified, gets the normal verification mail, and cannot accept the invite (or be
//! trusted for linking) until the mailed link is used.

use std::time::{Duration, Instant};

use onramp_stack::{ConfigHook, StackOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    identity::{PASSWORD, login, post},
    tenancy_http::new_tenant,
    tenancy_invites_http::{accept, invite},
    world::{MAIL_WAIT, User, World, mail_text},
};

/// Adds `mine` after whatever identity hook is already set (World's SMTP settings), never replacing it.
pub(crate) fn add_identity_hook(
    options: &mut StackOptions,
    mine: impl Fn(&mut onramp_identity::Config) + Send + Sync + 'static,
) {
    let previous = options.configure_identity.take();
    options.configure_identity = Some(ConfigHook::new(
        move |config: &mut onramp_identity::Config| {
            if let Some(previous) = &previous {
                previous.apply(config);
            }
            mine(config);
        },
    ));
}

/// The token of the verification mail sent to `to` (found by its link, whatever else `to` received).
pub(crate) async fn verification_token(world: &World, to: &str) -> String {
    mailed_token(world, to, "/verify-email?token=").await.1
}

/// The text and token of the first mail to `to` with a link containing `marker` (`/reset-password?token=`).
pub(crate) async fn mailed_token(world: &World, to: &str, marker: &str) -> (String, String) {
    let start = Instant::now();
    loop {
        let found = world
            .sink
            .messages()
            .iter()
            .filter(|mail| mail.to.iter().any(|address| address == to))
            .map(mail_text)
            .find_map(|text| {
                let at = text.find(marker)? + marker.len();
                let token = text[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect::<String>();
                Some((text, token))
            });
        if let Some(token) = found {
            return token;
        }
        assert!(
            start.elapsed() < MAIL_WAIT,
            "no mail with {marker} reached {to}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `GET /v1/users/me` as `access_token`.
pub(crate) async fn me_json(world: &World, access_token: &str) -> Value {
    let response = world
        .authed(Method::GET, "/v1/users/me", access_token)
        .send()
        .await
        .expect("me");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("me json")
}

/// Uses the mailed verification link of `email`.
pub(crate) async fn verify_from_mail(world: &World, email: &str) {
    let token = verification_token(world, email).await;
    let verified = post(
        &world.app,
        "/v1/auth/verify-email",
        json!({ "token": token }),
    )
    .await;
    assert_eq!(verified.status(), StatusCode::OK, "verify-email");
}

#[tokio::test]
async fn a_signup_with_the_invite_code_leaves_the_invited_address_unverified_until_the_mailed_link()
{
    let world = World::spawn().await;
    let inviter = world.verified_user().await;
    let tenant = new_tenant(&world, &inviter, "Mallory Co").await;
    let victim = format!("ceo-{}@victim.example", uuid::Uuid::new_v4().simple());
    let code = invite(&world, &inviter, &tenant, &victim, "admin").await;

    // The inviter read the code from the 201 and signs up as the victim with it.
    let signed_up = post(
        &world.app,
        "/v1/auth/signup",
        json!({ "email": victim, "password": PASSWORD, "display_name": "Not The CEO",
                "invite_code": code }),
    )
    .await;
    assert_eq!(signed_up.status(), StatusCode::ACCEPTED);
    let session: Value = login(&world.app, &victim, PASSWORD)
        .await
        .json()
        .await
        .expect("session");
    let access_token = session["access_token"].as_str().expect("access").to_owned();
    let me = me_json(&world, &access_token).await;
    assert_eq!(me["email_verified"], false, "{me}");
    let holder = User {
        email: victim.clone(),
        id: me["id"].as_str().expect("id").to_owned(),
        access_token,
    };
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
    world.stop().await;
}

#[tokio::test]
async fn the_real_owners_provider_login_never_links_into_an_account_made_with_the_code() {
    let http = crate::identity_oauth_linking::browser();
    let (world, provider) = crate::identity_oauth_linking::world_with_provider(&http).await;
    let inviter = world.verified_user().await;
    let tenant = new_tenant(&world, &inviter, "Pre-owned Co").await;
    let victim = format!("ceo-{}@victim.example", uuid::Uuid::new_v4().simple());
    let code = invite(&world, &inviter, &tenant, &victim, "admin").await;
    let signed_up = post(
        &world.app,
        "/v1/auth/signup",
        json!({ "email": victim, "password": PASSWORD, "display_name": "Not The CEO",
                "invite_code": code }),
    )
    .await;
    assert_eq!(signed_up.status(), StatusCode::ACCEPTED);

    // The victim signs in with a provider that vouches for the address: the inviter's account is
    // not proven, so the provider login is not handed to it (nor it to the provider login).
    let sub = format!("sub-{}", uuid::Uuid::new_v4().simple());
    let owner =
        crate::identity_oauth_linking::sign_in_as(&world, &http, &provider, &sub, (&victim, true))
            .await;
    let refused = crate::identity::problem(owner, 409).await;
    assert_eq!(refused["reason"], "EMAIL_ALREADY_REGISTERED_USE_LOGIN");
    world.stop().await;
}
