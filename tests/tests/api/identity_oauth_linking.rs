//! OAuth linking only into proven accounts (issue 12, item 2): a provider login joins an existing
//! account only when the provider asserts the address and the account's address was proven (by its
//! mailbox or by a provider asserting it). A password-less account made from an *unverified* provider
//! claim proves nothing. The owner who takes the address back with a password reset sees the linked
//! provider logins in the reset mail and removes them when choosing the new password.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::oauth::{browser, sign_in_as, world_with_provider};
use crate::support::{complete_reset, new_email, post, problem, requested_reset};

#[tokio::test]
async fn a_provider_login_never_links_into_an_account_made_from_an_unverified_claim() {
    let http = browser();
    let (world, provider) = world_with_provider(&http).await;
    let victim = new_email();

    // Mallory's provider account claims the victim's address without verifying it.
    let mallory = format!("sub-mallory-{}", uuid::Uuid::new_v4().simple());
    let made = sign_in_as(&world, &http, &provider, &mallory, (&victim, false)).await;
    assert_eq!(made.status(), StatusCode::OK);
    let made: Value = made.json().await.expect("json");
    assert_eq!(made["user_created"], true, "{made}");
    assert_eq!(made["email_verified"], false, "{made}");

    // The real owner's verified provider login is not linked into Mallory's account.
    let owner = format!("sub-owner-{}", uuid::Uuid::new_v4().simple());
    let refused = sign_in_as(&world, &http, &provider, &owner, (&victim, true)).await;
    let refused = problem(refused, 409).await;
    assert_eq!(refused["reason"], "EMAIL_ALREADY_REGISTERED_USE_LOGIN");

    // The owner takes the address back by a password reset; the mail lists the linked provider.
    let (text, token) = requested_reset(&world, &victim).await;
    assert!(text.contains(&format!("- mock ({victim})")), "{text}");

    // Unlinking a provider that is not linked is a 400 naming the field, and changes nothing.
    let complete = |unlink: Value| {
        post(
            &world,
            "/v1/auth/password-reset/complete",
            json!({ "token": token, "new_password": "a brand new passphrase",
                    "unlink_oauth_providers": unlink }),
        )
    };
    let bad = problem(complete(json!(["google"])).await, 400).await;
    assert_eq!(bad["field"], "unlink_oauth_providers", "{bad}");
    let done = complete(json!(["mock"])).await;
    assert_eq!(done.status(), StatusCode::OK);
    let done: Value = done.json().await.expect("json");
    assert_eq!(done["unlinked_oauth_providers"], json!(["mock"]), "{done}");
    assert_eq!(done["linked_oauth_providers"], json!([]), "{done}");

    // Mallory is out: her unverified claim cannot get into the (now proven) account again ...
    let mallory_again = sign_in_as(&world, &http, &provider, &mallory, (&victim, false)).await;
    assert_eq!(
        problem(mallory_again, 409).await["reason"],
        "EMAIL_ALREADY_REGISTERED_USE_LOGIN"
    );
    // ... while the owner's verified login now links into the account the mailbox proved.
    let linked = sign_in_as(&world, &http, &provider, &owner, (&victim, true)).await;
    assert_eq!(linked.status(), StatusCode::OK);
    let linked: Value = linked.json().await.expect("json");
    assert_eq!(linked["identity_linked"], true, "{linked}");
    assert_eq!(linked["session"]["user_id"], made["session"]["user_id"]);
}

#[tokio::test]
async fn a_reset_that_unlinks_nothing_shows_the_links_that_stay() {
    let http = browser();
    let (world, provider) = world_with_provider(&http).await;
    let email = new_email();
    let sub = format!("sub-{}", uuid::Uuid::new_v4().simple());
    let made = sign_in_as(&world, &http, &provider, &sub, (&email, true)).await;
    assert_eq!(made.status(), StatusCode::OK);
    let (_, token) = requested_reset(&world, &email).await;
    let done = complete_reset(&world, &token, "a brand new passphrase").await;
    assert_eq!(done.status(), StatusCode::OK);
    let done: Value = done.json().await.expect("json");
    assert_eq!(done["linked_oauth_providers"], json!(["mock"]), "{done}");
    assert_eq!(done["unlinked_oauth_providers"], json!([]), "{done}");
    // The provider login still works after the reset.
    let again = sign_in_as(&world, &http, &provider, &sub, (&email, true)).await;
    assert_eq!(again.status(), StatusCode::OK);
}
