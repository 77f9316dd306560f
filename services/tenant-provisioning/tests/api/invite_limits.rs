//! Invites and the plan's `seats` limit: members plus pending invites stay within it, all or nothing;
//! when billing cannot answer, nothing is written.

use onramp_kit::Code;
use onramp_proto::tenancy::v1::{self as pb, Role};

use crate::helpers::{TestTenancy, add_member, assert_error, caller, new_user};

#[tokio::test]
async fn invites_stay_within_the_seat_limit_all_or_nothing() {
    let app = TestTenancy::spawn(|config| config.standalone_seat_limit = Some(3)).await;
    let (owner, tenant) = app.owned("Small Team").await;
    let mut client = app.client.clone();
    let created = app
        .invite(
            &owner,
            &tenant,
            &[
                ("a@example.com", Role::Member),
                ("b@example.com", Role::Member),
            ],
        )
        .await
        .expect("owner + 2 invites = 3 seats");
    let error = assert_error(
        app.invite(
            &owner,
            &tenant,
            &[
                ("a@example.com", Role::Member),
                ("c@example.com", Role::Member),
            ],
        )
        .await,
        Code::LimitExceeded,
        None,
    );
    assert_eq!(error.code.http_status(), 403);
    assert_eq!(app.count("select count(*) from invites").await, 2);
    assert_eq!(
        app.count("select count(*) from email_outbox").await,
        2,
        "nothing was sent for the refused call"
    );
    app.invite(&owner, &tenant, &[("a@example.com", Role::Member)])
        .await
        .expect("re-sending an invite takes no new seat");
    let b = created.results[1]
        .invite
        .as_ref()
        .expect("invite")
        .id
        .clone();
    client
        .revoke_invite(pb::RevokeInviteRequest {
            caller: caller(&owner),
            tenant_id: tenant.clone(),
            invite_id: b,
        })
        .await
        .expect("revoke frees the seat");
    app.invite(&owner, &tenant, &[("c@example.com", Role::Member)])
        .await
        .expect("fits again");
    app.stop().await;
}

#[tokio::test]
async fn inviting_while_billing_cannot_answer_is_unavailable_and_writes_nothing() {
    // A real gRPC server that does not serve BillingService (UNIMPLEMENTED, as before billing exists).
    let other = TestTenancy::active().await;
    let billing = format!("http://{}", other.addr);
    let app = TestTenancy::spawn(|config| config.billing_service_addr = Some(billing)).await;
    let owner = new_user();
    let tenant = uuid::Uuid::new_v4().to_string();
    sqlx::query("insert into tenants (id, name, slug, state) values ($1::uuid, 'Fixture', 'fixture', 'active')")
        .bind(&tenant)
        .execute(&app.db)
        .await
        .expect("fixture tenant");
    add_member(&app, &tenant, &owner, "owner").await;
    assert_error(
        app.invite(&owner, &tenant, &[("a@example.com", Role::Member)])
            .await,
        Code::Unavailable,
        None,
    );
    assert_eq!(app.count("select count(*) from invites").await, 0);
    assert_eq!(app.count("select count(*) from email_outbox").await, 0);
    app.stop().await;
    other.stop().await;
}
