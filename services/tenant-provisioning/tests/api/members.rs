//! Memberships: visibility (404 across tenants), roles, last-owner protection.

use onramp_kit::Code;
use onramp_proto::tenancy::v1::{self as pb, Role};

use crate::helpers::{TestTenancy, add_member, assert_error, caller, new_user, tenant_id};

#[tokio::test]
async fn a_member_of_tenant_a_gets_not_found_for_everything_of_tenant_b() {
    let app = TestTenancy::active().await;
    let alice = new_user();
    let bob = new_user();
    let _a = tenant_id(&app.provision(&alice, "Tenant A").await);
    let b = tenant_id(&app.provision(&bob, "Tenant B").await);
    let mut client = app.client.clone();
    assert_error(
        client
            .get_tenant(pb::GetTenantRequest {
                caller: caller(&alice),
                tenant_id: b.clone(),
            })
            .await,
        Code::NotFound,
        None,
    );
    assert_error(
        client
            .get_tenant_status(pb::GetTenantStatusRequest {
                caller: caller(&alice),
                tenant_id: b.clone(),
            })
            .await,
        Code::NotFound,
        None,
    );
    assert_error(
        client
            .get_starter_data(pb::GetStarterDataRequest {
                caller: caller(&alice),
                tenant_id: b.clone(),
            })
            .await,
        Code::NotFound,
        None,
    );
    assert_error(
        client
            .list_members(pb::ListMembersRequest {
                caller: caller(&alice),
                tenant_id: b.clone(),
                page: None,
            })
            .await,
        Code::NotFound,
        None,
    );
    assert_error(
        client
            .change_member_role(pb::ChangeMemberRoleRequest {
                caller: caller(&alice),
                tenant_id: b.clone(),
                user_id: bob.clone(),
                role: Role::Member.into(),
            })
            .await,
        Code::NotFound,
        None,
    );
    assert_error(
        client
            .remove_member(pb::RemoveMemberRequest {
                caller: caller(&alice),
                tenant_id: b.clone(),
                user_id: bob.clone(),
            })
            .await,
        Code::NotFound,
        None,
    );
    assert_error(
        client
            .create_invites(pb::CreateInvitesRequest {
                caller: caller(&alice),
                tenant_id: b.clone(),
                invites: vec![pb::InviteSpec {
                    email: "x@example.com".into(),
                    role: Role::Member.into(),
                }],
            })
            .await,
        Code::NotFound,
        None,
    );
    // An unknown tenant looks exactly the same.
    assert_error(
        client
            .get_tenant(pb::GetTenantRequest {
                caller: caller(&alice),
                tenant_id: uuid::Uuid::new_v4().to_string(),
            })
            .await,
        Code::NotFound,
        None,
    );
    let mine = client
        .list_my_tenants(pb::ListMyTenantsRequest {
            caller: caller(&alice),
            page: None,
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(mine.tenants.len(), 1);
    app.stop().await;
}

fn change(by: &str, tenant: &str, user: &str, role: Role) -> pb::ChangeMemberRoleRequest {
    pb::ChangeMemberRoleRequest {
        caller: caller(by),
        tenant_id: tenant.to_owned(),
        user_id: user.to_owned(),
        role: role.into(),
    }
}

fn remove(by: &str, tenant: &str, user: &str) -> pb::RemoveMemberRequest {
    pb::RemoveMemberRequest {
        caller: caller(by),
        tenant_id: tenant.to_owned(),
        user_id: user.to_owned(),
    }
}

#[tokio::test]
async fn the_last_owner_can_neither_be_demoted_nor_removed_nor_leave() {
    let app = TestTenancy::active().await;
    let (owner, tenant) = app.owned("Solo").await;
    let mut client = app.client.clone();
    assert_error(
        client
            .change_member_role(change(&owner, &tenant, &owner, Role::Admin))
            .await,
        Code::Conflict,
        None,
    );
    assert_error(
        client.remove_member(remove(&owner, &tenant, &owner)).await,
        Code::Conflict,
        None,
    );
    assert_eq!(
        app.count("select count(*) from memberships where role = 'owner'")
            .await,
        1
    );

    // With a second owner, the first may step down; then the second is the last one.
    let second = new_user();
    add_member(&app, &tenant, &second, "owner").await;
    let demoted = client
        .change_member_role(change(&owner, &tenant, &owner, Role::Admin))
        .await
        .expect("demote");
    assert_eq!(
        demoted.into_inner().membership.expect("membership").role(),
        Role::Admin
    );
    assert_error(
        client.remove_member(remove(&owner, &tenant, &second)).await,
        Code::PermissionDenied,
        None,
    );
    assert_error(
        client
            .change_member_role(change(&second, &tenant, &second, Role::Member))
            .await,
        Code::Conflict,
        None,
    );
    assert_error(
        client
            .remove_member(remove(&second, &tenant, &second))
            .await,
        Code::Conflict,
        None,
    );
    app.stop().await;
}

#[tokio::test]
async fn roles_limit_who_may_change_and_remove_whom() {
    let app = TestTenancy::active().await;
    let owner = new_user();
    let admin = new_user();
    let member = new_user();
    let tenant = tenant_id(&app.provision(&owner, "Roles").await);
    add_member(&app, &tenant, &admin, "admin").await;
    add_member(&app, &tenant, &member, "member").await;
    let mut client = app.client.clone();

    let listed = client
        .list_members(pb::ListMembersRequest {
            caller: caller(&member),
            tenant_id: tenant.clone(),
            page: None,
        })
        .await
        .expect("any member lists")
        .into_inner();
    assert_eq!(listed.members[0].user_id, owner, "owners first");
    assert_eq!(listed.members.len(), 3);

    let stranger = new_user();
    let refused = [
        (&member, &admin, Role::Member, Code::PermissionDenied, None),
        (&admin, &owner, Role::Member, Code::PermissionDenied, None),
        (&admin, &member, Role::Owner, Code::PermissionDenied, None),
        (
            &owner,
            &member,
            Role::Unspecified,
            Code::InvalidArgument,
            Some("role"),
        ),
        (&owner, &stranger, Role::Admin, Code::NotFound, None),
    ];
    for (by, user, role, code, field) in refused {
        assert_error(
            client
                .change_member_role(change(by, &tenant, user, role))
                .await,
            code,
            field,
        );
    }
    let promoted = client
        .change_member_role(change(&admin, &tenant, &member, Role::Admin))
        .await
        .expect("admin promotes");
    assert_eq!(
        promoted.into_inner().membership.expect("m").role(),
        Role::Admin
    );
    assert_error(
        client.remove_member(remove(&admin, &tenant, &owner)).await,
        Code::PermissionDenied,
        None,
    );
    let left = client
        .remove_member(remove(&member, &tenant, &member))
        .await
        .expect("anyone may leave");
    assert_eq!(left.into_inner().remaining_members, 2);
    let removed = client
        .remove_member(remove(&owner, &tenant, &admin))
        .await
        .expect("owner removes");
    assert_eq!(removed.into_inner().remaining_members, 1);
    let counted = client
        .count_members(pb::CountMembersRequest {
            tenant_id: tenant.clone(),
        })
        .await
        .expect("count")
        .into_inner();
    assert_eq!((counted.members, counted.pending_invites), (1, 0));
    app.stop().await;
}
