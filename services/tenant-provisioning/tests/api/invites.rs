//! Invites: bulk create with outbox emails, public lookup (masked, 404 when unusable), revoke, and
//! accept — which needs identity to check the caller's verified email (not running here, so accept
//! must refuse cleanly and change nothing).

use std::time::Duration;

use onramp_kit::{Code, mail::sink::SmtpSink};
use onramp_proto::tenancy::v1::{self as pb, InviteOutcome, InviteState, Role};

use crate::helpers::{TestTenancy, add_member, assert_error, caller, new_user, tenant_id};

fn lookup(code: &str) -> pb::LookupInviteRequest {
    pb::LookupInviteRequest {
        caller: None,
        code: code.to_owned(),
    }
}

#[tokio::test]
async fn owners_invite_many_at_once_each_with_an_outbox_email_and_a_public_masked_preview() {
    let app = TestTenancy::active().await;
    let (owner, tenant) = app.owned("Inviters").await;
    let mut client = app.client.clone();
    let created = app
        .invite(
            &owner,
            &tenant,
            &[
                (" Jane@Example.com", Role::Member),
                ("bob@example.org", Role::Admin),
                ("jane@example.com", Role::Admin),
            ],
        )
        .await
        .expect("created");
    assert_eq!(created.results.len(), 2, "duplicates are merged");
    assert_eq!(created.results[0].email, "jane@example.com");
    assert!(
        created
            .results
            .iter()
            .all(|r| r.outcome() == InviteOutcome::Created && r.code.len() >= 32)
    );
    assert_eq!(app.count("select count(*) from email_outbox").await, 2);
    let body: String = sqlx::query_scalar(
        "select body_text from email_outbox where to_address = 'jane@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .expect("email");
    assert!(
        body.contains(&created.results[0].code),
        "the email carries the link"
    );

    let preview = client
        .lookup_invite(lookup(&created.results[0].code))
        .await
        .expect("lookup")
        .into_inner();
    assert_eq!(preview.tenant_name, "Inviters");
    assert_eq!(preview.masked_email, "j***@example.com");
    assert_eq!(preview.role(), Role::Member);
    let resolved = client
        .resolve_invite(pb::ResolveInviteRequest {
            code: created.results[0].code.clone(),
        })
        .await
        .expect("resolve")
        .into_inner();
    assert_eq!(
        (resolved.email.as_str(), resolved.tenant_id.as_str()),
        ("jane@example.com", tenant.as_str())
    );

    // Inviting again keeps one invite and sends a fresh link.
    let again = app
        .invite(&owner, &tenant, &[("jane@example.com", Role::Member)])
        .await
        .expect("again");
    assert_eq!(again.results[0].outcome(), InviteOutcome::AlreadyInvited);
    assert_eq!(app.count("select count(*) from invites").await, 2);
    assert_eq!(app.count("select count(*) from email_outbox").await, 3);
    let listed = client
        .list_invites(pb::ListInvitesRequest {
            caller: caller(&owner),
            tenant_id: tenant.clone(),
            state: InviteState::Pending.into(),
            page: None,
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.invites.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn unknown_expired_and_revoked_invites_are_not_found() {
    let app = TestTenancy::active().await;
    let (owner, tenant) = app.owned("Expiry").await;
    let mut client = app.client.clone();
    let created = app
        .invite(
            &owner,
            &tenant,
            &[
                ("old@example.com", Role::Member),
                ("gone@example.com", Role::Member),
            ],
        )
        .await
        .expect("created");
    let (old, gone) = (&created.results[0], &created.results[1]);
    assert_error(
        client.lookup_invite(lookup("no-such-code")).await,
        Code::NotFound,
        None,
    );
    assert_error(
        client.lookup_invite(lookup("")).await,
        Code::InvalidArgument,
        Some("code"),
    );

    sqlx::query("update invites set expires_at = now() - interval '1 minute' where email = 'old@example.com'")
        .execute(&app.db)
        .await
        .expect("expire");
    assert_error(
        client.lookup_invite(lookup(&old.code)).await,
        Code::NotFound,
        None,
    );
    assert_error(
        client
            .accept_invite(pb::AcceptInviteRequest {
                caller: caller(&new_user()),
                code: old.code.clone(),
            })
            .await,
        Code::NotFound,
        None,
    );

    let invite_id = gone.invite.as_ref().expect("invite").id.clone();
    let revoke = pb::RevokeInviteRequest {
        caller: caller(&owner),
        tenant_id: tenant.clone(),
        invite_id,
    };
    let revoked = client
        .revoke_invite(revoke.clone())
        .await
        .expect("revoke")
        .into_inner();
    assert_eq!(
        revoked.invite.expect("invite").state(),
        InviteState::Revoked
    );
    client
        .revoke_invite(revoke)
        .await
        .expect("revoking twice is fine");
    assert_error(
        client.lookup_invite(lookup(&gone.code)).await,
        Code::NotFound,
        None,
    );

    // An expired invite may be sent again: a new invite replaces it.
    let renewed = app
        .invite(&owner, &tenant, &[("old@example.com", Role::Member)])
        .await
        .expect("renewed");
    assert_eq!(renewed.results[0].outcome(), InviteOutcome::Created);
    client
        .lookup_invite(lookup(&renewed.results[0].code))
        .await
        .expect("the new link works");
    app.stop().await;
}

#[tokio::test]
async fn only_owners_and_admins_invite_and_only_owners_invite_owners_and_bad_rows_name_their_field()
{
    let app = TestTenancy::active().await;
    let owner = new_user();
    let admin = new_user();
    let member = new_user();
    let tenant = tenant_id(&app.provision(&owner, "Gatekeepers").await);
    add_member(&app, &tenant, &admin, "admin").await;
    add_member(&app, &tenant, &member, "member").await;
    assert_error(
        app.invite(&member, &tenant, &[("a@example.com", Role::Member)])
            .await,
        Code::PermissionDenied,
        None,
    );
    assert_error(
        app.invite(&admin, &tenant, &[("a@example.com", Role::Owner)])
            .await,
        Code::PermissionDenied,
        None,
    );
    assert_error(
        app.invite(
            &owner,
            &tenant,
            &[
                ("a@example.com", Role::Member),
                ("not-an-email", Role::Member),
            ],
        )
        .await,
        Code::InvalidArgument,
        Some("invites[1].email"),
    );
    assert_error(
        app.invite(&owner, &tenant, &[("a@example.com", Role::Unspecified)])
            .await,
        Code::InvalidArgument,
        Some("invites[0].role"),
    );
    assert_error(
        app.invite(&owner, &tenant, &[]).await,
        Code::InvalidArgument,
        Some("invites"),
    );
    assert_eq!(
        app.count("select count(*) from invites").await,
        0,
        "all or nothing"
    );
    assert_eq!(app.count("select count(*) from email_outbox").await, 0);
    app.invite(&admin, &tenant, &[("a@example.com", Role::Admin)])
        .await
        .expect("admins invite admins");
    app.stop().await;
}

#[tokio::test]
async fn accepting_without_identity_is_unavailable_and_consumes_nothing() {
    let app = TestTenancy::active().await;
    let (owner, tenant) = app.owned("No Identity").await;
    let mut client = app.client.clone();
    let created = app
        .invite(&owner, &tenant, &[("jane@example.com", Role::Member)])
        .await
        .expect("created");
    let code = created.results[0].code.clone();
    let jane = new_user();
    assert_error(
        client
            .accept_invite(pb::AcceptInviteRequest {
                caller: caller(&jane),
                code: code.clone(),
            })
            .await,
        Code::Unavailable,
        None,
    );
    assert_error(
        client
            .accept_invite(pb::AcceptInviteRequest {
                caller: None,
                code: code.clone(),
            })
            .await,
        Code::Unauthenticated,
        None,
    );
    assert_eq!(app.count("select count(*) from memberships").await, 1);
    client
        .lookup_invite(lookup(&code))
        .await
        .expect("still pending");
    app.stop().await;
}

#[tokio::test]
async fn invite_emails_leave_through_the_outbox_over_smtp() {
    let sink = SmtpSink::start().expect("smtp sink");
    let url = sink.url();
    let app = TestTenancy::spawn(move |config| {
        config.smtp_url = Some(url.into());
        config.outbox_poll_interval = Duration::from_millis(50);
        config.invite_link_base = "https://app.example.com/invites/".to_owned();
    })
    .await;
    let (owner, tenant) = app.owned("Mailers").await;
    let specs = [
        ("mia@example.com", Role::Member),
        ("max@example.com", Role::Admin),
    ];
    let created = app.invite(&owner, &tenant, &specs).await.expect("created");
    for result in &created.results {
        let mail = sink
            .wait_for(&result.email, 1, Duration::from_secs(10))
            .await;
        assert_eq!(mail.len(), 1, "one email to {}", result.email);
        let link = format!("https://app.example.com/invites/{}", result.code);
        // The body is quoted-printable: undo its soft line breaks and escaped '='.
        let body = mail[0]
            .data
            .replace("=\r\n", "")
            .replace("=\n", "")
            .replace("=3D", "=");
        assert!(body.contains(&link), "{body}");
        assert!(body.contains("Mailers"));
    }
    app.stop().await;
}
