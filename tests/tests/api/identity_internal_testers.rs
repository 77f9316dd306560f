//! Internal testers (issue 14): with `SELF_SERVE_ENABLED=false`, the addresses in
//! `INTERNAL_TESTER_EMAILS` may still sign up — by password and by OAuth — matched on the normalised
//! address; everyone else gets `403 SELF_SERVE_DISABLED`; each use is audited, and the public config
//! never shows the list. An invite still opens the closed signup for the invited address.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::support::{
    PASSWORD, TestStack, login, me_json, new_email,
    oauth::{browser, mock_provider_hook, sign_in_as, start_provider},
    post, problem, signup, signup_with_invite,
    tenancy::{invite, new_tenant},
    verify_from_mail,
};

fn tester_email(who: &str) -> String {
    format!("{who}-{}@testers.example", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn with_self_serve_off_only_listed_testers_sign_up_by_password_or_oauth() {
    let http = browser();
    let provider = start_provider(&http).await;
    let hook = mock_provider_hook(&provider);
    let (by_password, by_oauth) = (tester_email("ada"), tester_email("grace"));
    // Listed with odd case and spacing: matching is on the normalised address.
    let listed = vec![
        format!("  {}", by_password.to_uppercase()),
        by_oauth.clone(),
    ];
    let world = TestStack::with_mail_and(move |options| {
        options.identity(move |config| {
            hook.apply(config);
            config.self_serve_enabled = false;
            config.internal_tester_emails = listed.clone();
        });
    })
    .await;
    let app = &world;

    // Password: the tester gets in (with the address in any case), a stranger does not.
    let tester = post(
        app,
        "/v1/auth/signup",
        json!({ "email": format!(" {} ", by_password.to_uppercase()), "password": PASSWORD,
                "display_name": "Ada" }),
    )
    .await;
    assert_eq!(tester.status(), StatusCode::ACCEPTED);
    assert_eq!(
        login(app, &by_password, PASSWORD).await.status(),
        StatusCode::OK
    );
    let stranger = problem(signup(app, &new_email(), PASSWORD).await, 403).await;
    assert_eq!(stranger["reason"], "SELF_SERVE_DISABLED");

    // OAuth: the same, for an address the provider vouches for.
    let sub = format!("sub-{}", uuid::Uuid::new_v4().simple());
    let signed_in = sign_in_as(&world, &http, &provider, &sub, (&by_oauth, true)).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let signed_in: Value = signed_in.json().await.expect("json");
    assert_eq!(signed_in["user_created"], true, "{signed_in}");
    let sub = format!("sub-{}", uuid::Uuid::new_v4().simple());
    let outsider = sign_in_as(&world, &http, &provider, &sub, (&new_email(), true)).await;
    assert_eq!(
        problem(outsider, 403).await["reason"],
        "SELF_SERVE_DISABLED"
    );

    // Each use is in the audit trail.
    let mut conn = app.connect("identity").await;
    let audited: Vec<(String, String)> = sqlx::query_as(
        "select email, detail->>'method' from audit_events
         where kind = 'internal_tester_signup' order by id",
    )
    .fetch_all(&mut conn)
    .await
    .expect("audit");
    conn.close().await.expect("close");
    assert_eq!(
        audited,
        vec![
            (by_password.clone(), "password".to_owned()),
            (by_oauth.clone(), "oauth".to_owned())
        ]
    );

    // The public config says signup is closed and nothing about who may pass.
    let config = http
        .get(app.url("/v1/config/public"))
        .send()
        .await
        .expect("config");
    assert_eq!(config.status(), StatusCode::OK);
    let config = config.text().await.expect("text");
    assert!(config.contains(r#""self_serve_enabled":false"#), "{config}");
    assert!(!config.contains("testers.example"), "{config}");
}

#[tokio::test]
async fn with_self_serve_off_an_invite_still_admits_the_invited_address() {
    let owner_email = tester_email("owner");
    let listed = vec![owner_email.clone()];
    let world = TestStack::with_mail_and(move |options| {
        options.identity(move |config| {
            config.self_serve_enabled = false;
            config.internal_tester_emails = listed.clone();
        });
    })
    .await;
    let owner = world.verified_user_with_email(&owner_email).await;
    let tenant = new_tenant(&world, &owner, "Closed Beta Co").await;
    let invitee = new_email();
    let code = invite(&world, &owner, &tenant, &invitee, "member").await;
    let admitted = signup_with_invite(&world, &invitee, "Invitee", &code).await;
    assert_eq!(admitted.status(), StatusCode::ACCEPTED);
    // Admitted, but not verified by the code: the mailed link does that.
    let invited = world.logged_in(&invitee).await;
    let verified = async || me_json(&world, &invited.access_token).await["email_verified"].clone();
    assert_eq!(verified().await, false);
    verify_from_mail(&world, &invitee).await;
    assert_eq!(verified().await, true);
}
