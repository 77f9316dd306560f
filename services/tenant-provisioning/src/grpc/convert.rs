//! proto <-> domain conversions, the only place they happen.

use chrono::Utc;
use onramp_kit::grpc::convert::signed_in_user;
use onramp_proto::{
    common::v1::{Caller, PageRequest},
    tenancy::v1 as pb,
};
use uuid::Uuid;

use crate::{
    domain::{
        inputs::Invalid,
        lifecycle::{Gate, Status, TenantState, Transition},
        role::Role,
    },
    error::TenancyError,
    peers::UserInfo,
    service::{Page, invites::InviteState},
    store::{invites::InviteRow, members::Membership, provisioning::StarterItem, tenants::Tenant},
};

pub(crate) use onramp_kit::grpc::convert::{datetime as from_ts, timestamp as ts};

/// The signed-in user, or UNAUTHENTICATED.
pub(crate) fn signed_in(caller: Option<&Caller>) -> Result<Uuid, TenancyError> {
    signed_in_user(caller).ok_or(TenancyError::Unauthenticated)
}

pub(crate) fn page(request: Option<&PageRequest>) -> Result<Page, Invalid> {
    Page::parse(request).map_err(|_| {
        Invalid::new(
            "page.page_token",
            "page_token is not a token this service issued",
        )
    })
}

pub(crate) fn state(state: TenantState) -> pb::TenantState {
    match state {
        TenantState::PendingPayment => pb::TenantState::PendingPayment,
        TenantState::Active => pb::TenantState::Active,
        TenantState::PastDue => pb::TenantState::PastDue,
        TenantState::Suspended => pb::TenantState::Suspended,
        TenantState::Canceled => pb::TenantState::Canceled,
    }
}

pub(crate) fn role(role: Role) -> pb::Role {
    match role {
        Role::Owner => pb::Role::Owner,
        Role::Admin => pb::Role::Admin,
        Role::Member => pb::Role::Member,
    }
}

/// A role from a request; ROLE_UNSPECIFIED (or an unknown value) is refused naming `field`.
pub(crate) fn role_from(value: i32, field: &str) -> Result<Role, Invalid> {
    match pb::Role::try_from(value) {
        Ok(pb::Role::Owner) => Ok(Role::Owner),
        Ok(pb::Role::Admin) => Ok(Role::Admin),
        Ok(pb::Role::Member) => Ok(Role::Member),
        _ => Err(Invalid::new(
            field,
            format!("{field} must be owner, admin or member"),
        )),
    }
}

pub(crate) fn transition_from(value: i32) -> Result<Transition, Invalid> {
    match pb::LifecycleTransition::try_from(value) {
        Ok(pb::LifecycleTransition::Activate) => Ok(Transition::Activate),
        Ok(pb::LifecycleTransition::MarkPastDue) => Ok(Transition::MarkPastDue),
        Ok(pb::LifecycleTransition::Suspend) => Ok(Transition::Suspend),
        Ok(pb::LifecycleTransition::Cancel) => Ok(Transition::Cancel),
        _ => Err(Invalid::new("transition", "transition must be set")),
    }
}

pub(crate) fn tenant(tenant: &Tenant) -> pb::Tenant {
    pb::Tenant {
        id: tenant.id.to_string(),
        name: tenant.name.clone(),
        slug: tenant.slug.clone(),
        state: state(tenant.state).into(),
        state_changed_at: Some(ts(tenant.state_changed_at)),
        activated_at: tenant.activated_at.map(ts),
        created_at: Some(ts(tenant.created_at)),
        starter_template_version: tenant.starter_template_version.clone(),
    }
}

pub(crate) fn status(tenant: &Tenant, status: &Status) -> pb::TenantStatus {
    let gate = match status.gate {
        Gate::None => pb::TenantGate::None,
        Gate::PaymentPending => pb::TenantGate::PaymentPending,
        Gate::Suspended => pb::TenantGate::Suspended,
        Gate::Canceled => pb::TenantGate::Canceled,
    };
    pb::TenantStatus {
        tenant_id: tenant.id.to_string(),
        state: state(tenant.state).into(),
        ready: status.ready,
        gate: gate.into(),
        retry_after_seconds: status.retry_after.map_or(0, |after| {
            u32::try_from(after.as_secs().max(1)).unwrap_or(u32::MAX)
        }),
        message: status.message.to_owned(),
        state_changed_at: Some(ts(tenant.state_changed_at)),
    }
}

pub(crate) fn membership(membership: &Membership, user: Option<&UserInfo>) -> pb::Membership {
    pb::Membership {
        tenant_id: membership.tenant_id.to_string(),
        user_id: membership.user_id.to_string(),
        role: role(membership.role).into(),
        joined_at: Some(ts(membership.joined_at)),
        email: user.map(|u| u.email.clone()).unwrap_or_default(),
        display_name: user.map(|u| u.display_name.clone()).unwrap_or_default(),
    }
}

pub(crate) fn invite_state(state: InviteState) -> pb::InviteState {
    match state {
        InviteState::Pending => pb::InviteState::Pending,
        InviteState::Accepted => pb::InviteState::Accepted,
        InviteState::Revoked => pb::InviteState::Revoked,
        InviteState::Expired => pb::InviteState::Expired,
    }
}

pub(crate) fn invite_state_from(value: i32) -> Result<Option<InviteState>, Invalid> {
    match pb::InviteState::try_from(value) {
        Ok(pb::InviteState::Unspecified) => Ok(None),
        Ok(pb::InviteState::Pending) => Ok(Some(InviteState::Pending)),
        Ok(pb::InviteState::Accepted) => Ok(Some(InviteState::Accepted)),
        Ok(pb::InviteState::Revoked) => Ok(Some(InviteState::Revoked)),
        Ok(pb::InviteState::Expired) => Ok(Some(InviteState::Expired)),
        Err(_) => Err(Invalid::new("state", "state is not an invite state")),
    }
}

pub(crate) fn invite(row: &InviteRow) -> pb::Invite {
    let role = Role::from_db(&row.role).map_or(pb::Role::Unspecified, role);
    pb::Invite {
        id: row.id.to_string(),
        tenant_id: row.tenant_id.to_string(),
        email: row.email.clone(),
        role: role.into(),
        state: invite_state(InviteState::of(row, Utc::now())).into(),
        invited_by_user_id: row.invited_by.to_string(),
        created_at: Some(ts(row.created_at)),
        expires_at: Some(ts(row.expires_at)),
        accepted_at: row.accepted_at.map(ts),
        revoked_at: row.revoked_at.map(ts),
    }
}

pub(crate) fn starter_item(item: &StarterItem) -> pb::StarterItem {
    pb::StarterItem {
        id: item.id.to_string(),
        kind: item.kind.clone(),
        key: item.key.clone(),
        name: item.name.clone(),
        parent_key: item.parent_key.clone(),
        position: u32::try_from(item.position).unwrap_or_default(),
    }
}
