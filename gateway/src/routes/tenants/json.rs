//! The JSON shapes of the tenant and invite routes (stable field order, so a replayed provisioning
//! result serialises to the same bytes).

use onramp_proto::tenancy::v1 as pb;
use serde::Serialize;

fn time(at: Option<prost_types::Timestamp>) -> Option<String> {
    at.map(|at| at.to_string())
}

pub(crate) fn role(role: i32) -> &'static str {
    match pb::Role::try_from(role) {
        Ok(pb::Role::Owner) => "owner",
        Ok(pb::Role::Admin) => "admin",
        Ok(pb::Role::Member) => "member",
        _ => "unspecified",
    }
}

fn state(state: i32) -> &'static str {
    match pb::TenantState::try_from(state) {
        Ok(pb::TenantState::PendingPayment) => "pending_payment",
        Ok(pb::TenantState::Active) => "active",
        Ok(pb::TenantState::PastDue) => "past_due",
        Ok(pb::TenantState::Suspended) => "suspended",
        Ok(pb::TenantState::Canceled) => "canceled",
        _ => "unspecified",
    }
}

fn gate(gate: i32) -> &'static str {
    match pb::TenantGate::try_from(gate) {
        Ok(pb::TenantGate::None) => "none",
        Ok(pb::TenantGate::PaymentPending) => "payment_pending",
        Ok(pb::TenantGate::Suspended) => "suspended",
        Ok(pb::TenantGate::Canceled) => "canceled",
        _ => "unspecified",
    }
}

pub(crate) fn invite_state(state: i32) -> &'static str {
    match pb::InviteState::try_from(state) {
        Ok(pb::InviteState::Pending) => "pending",
        Ok(pb::InviteState::Accepted) => "accepted",
        Ok(pb::InviteState::Revoked) => "revoked",
        Ok(pb::InviteState::Expired) => "expired",
        _ => "unspecified",
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Tenant {
    id: String,
    name: String,
    slug: String,
    state: &'static str,
    state_changed_at: Option<String>,
    activated_at: Option<String>,
    created_at: Option<String>,
    starter_template_version: String,
}

impl From<pb::Tenant> for Tenant {
    fn from(t: pb::Tenant) -> Self {
        Self {
            state: state(t.state),
            id: t.id,
            name: t.name,
            slug: t.slug,
            state_changed_at: time(t.state_changed_at),
            activated_at: time(t.activated_at),
            created_at: time(t.created_at),
            starter_template_version: t.starter_template_version,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Status {
    tenant_id: String,
    state: &'static str,
    ready: bool,
    gate: &'static str,
    retry_after_seconds: u32,
    message: String,
    state_changed_at: Option<String>,
}

impl From<pb::TenantStatus> for Status {
    fn from(s: pb::TenantStatus) -> Self {
        Self {
            state: state(s.state),
            gate: gate(s.gate),
            tenant_id: s.tenant_id,
            ready: s.ready,
            retry_after_seconds: s.retry_after_seconds,
            message: s.message,
            state_changed_at: time(s.state_changed_at),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Membership {
    tenant_id: String,
    user_id: String,
    role: &'static str,
    joined_at: Option<String>,
    email: String,
    display_name: String,
}

impl From<pb::Membership> for Membership {
    fn from(m: pb::Membership) -> Self {
        Self {
            role: role(m.role),
            tenant_id: m.tenant_id,
            user_id: m.user_id,
            joined_at: time(m.joined_at),
            email: m.email,
            display_name: m.display_name,
        }
    }
}

/// The body of `POST /v1/tenants` (the replay flag travels in a header, never here).
#[derive(Debug, Serialize)]
pub(crate) struct Provisioned {
    tenant: Option<Tenant>,
    owner_membership: Option<Membership>,
    status: Option<Status>,
}

impl From<pb::ProvisionTenantResponse> for Provisioned {
    fn from(r: pb::ProvisionTenantResponse) -> Self {
        Self {
            tenant: r.tenant.map(Tenant::from),
            owner_membership: r.owner_membership.map(Membership::from),
            status: r.status.map(Status::from),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Invite {
    id: String,
    tenant_id: String,
    email: String,
    role: &'static str,
    state: &'static str,
    invited_by_user_id: String,
    created_at: Option<String>,
    expires_at: Option<String>,
    accepted_at: Option<String>,
    revoked_at: Option<String>,
}

impl From<pb::Invite> for Invite {
    fn from(i: pb::Invite) -> Self {
        Self {
            role: role(i.role),
            state: invite_state(i.state),
            id: i.id,
            tenant_id: i.tenant_id,
            email: i.email,
            invited_by_user_id: i.invited_by_user_id,
            created_at: time(i.created_at),
            expires_at: time(i.expires_at),
            accepted_at: time(i.accepted_at),
            revoked_at: time(i.revoked_at),
        }
    }
}

/// A role from a JSON body; anything else is a 400 naming `field`.
pub(crate) fn role_from(value: &str) -> Option<pb::Role> {
    match value {
        "owner" => Some(pb::Role::Owner),
        "admin" => Some(pb::Role::Admin),
        "member" => Some(pb::Role::Member),
        _ => None,
    }
}
