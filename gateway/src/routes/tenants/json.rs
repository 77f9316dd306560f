//! The JSON shapes of the tenant and invite routes (stable field order, so a replayed provisioning
//! result serialises to the same bytes).

use onramp_proto::tenancy::v1 as pb;
use serde::Serialize;
use utoipa::ToSchema;

use crate::routes::{json_time::rfc3339 as time, words::word_of};

/// A workspace (times are RFC 3339).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Tenant {
    id: String,
    name: String,
    slug: String,
    state: String,
    #[schema(format = DateTime)]
    state_changed_at: Option<String>,
    #[schema(format = DateTime)]
    activated_at: Option<String>,
    #[schema(format = DateTime)]
    created_at: Option<String>,
    starter_template_version: String,
}

impl From<pb::Tenant> for Tenant {
    fn from(t: pb::Tenant) -> Self {
        Self {
            state: word_of::<pb::TenantState>(t.state),
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

/// Whether the workspace is usable (what a client polls during the payment race).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TenantStatus)]
pub(crate) struct Status {
    tenant_id: String,
    state: String,
    ready: bool,
    gate: String,
    retry_after_seconds: u32,
    message: String,
    #[schema(format = DateTime)]
    state_changed_at: Option<String>,
}

impl From<pb::TenantStatus> for Status {
    fn from(s: pb::TenantStatus) -> Self {
        Self {
            state: word_of::<pb::TenantState>(s.state),
            gate: word_of::<pb::TenantGate>(s.gate),
            tenant_id: s.tenant_id,
            ready: s.ready,
            retry_after_seconds: s.retry_after_seconds,
            message: s.message,
            state_changed_at: time(s.state_changed_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Membership {
    tenant_id: String,
    user_id: String,
    role: String,
    #[schema(format = DateTime)]
    joined_at: Option<String>,
    /// The member's email, as identity knows it. Present in the members list; absent where it was
    /// not looked up (the provisioning answer, a role change) or identity did not answer — never an
    /// empty placeholder.
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    /// The member's display name, as identity knows it; present and absent as `email` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
}

impl From<pb::Membership> for Membership {
    fn from(m: pb::Membership) -> Self {
        Self {
            role: word_of::<pb::Role>(m.role),
            tenant_id: m.tenant_id,
            user_id: m.user_id,
            joined_at: time(m.joined_at),
            email: known(m.email),
            display_name: known(m.display_name),
        }
    }
}

/// Proto3 has no "unset" for strings: an empty one means tenancy did not fill it in.
fn known(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

/// The body of `POST /v1/tenants` (the replay flag travels in a header, never here).
#[derive(Debug, Serialize, ToSchema)]
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

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Invite {
    id: String,
    tenant_id: String,
    email: String,
    role: String,
    state: String,
    invited_by_user_id: String,
    #[schema(format = DateTime)]
    created_at: Option<String>,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    #[schema(format = DateTime)]
    accepted_at: Option<String>,
    #[schema(format = DateTime)]
    revoked_at: Option<String>,
}

impl From<pb::Invite> for Invite {
    fn from(i: pb::Invite) -> Self {
        Self {
            role: word_of::<pb::Role>(i.role),
            state: word_of::<pb::InviteState>(i.state),
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

/// A tenant with the caller's role in it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TenantWithRole {
    pub(crate) tenant: Option<Tenant>,
    /// `owner`, `admin` or `member`.
    pub(crate) role: String,
}

impl TenantWithRole {
    pub(crate) fn new(tenant: Option<pb::Tenant>, role: i32) -> Self {
        Self {
            tenant: tenant.map(Tenant::from),
            role: word_of::<pb::Role>(role),
        }
    }
}

/// `GET /v1/tenants` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MyTenants {
    pub(crate) tenants: Vec<TenantWithRole>,
    /// The token for the next page (`?page_token=`); null on the last page.
    #[schema(required = true)]
    pub(crate) next_page_token: Option<String>,
}

/// One item of a tenant's starter data.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StarterItem {
    id: String,
    kind: String,
    key: String,
    name: String,
    parent_key: String,
    position: u32,
}

impl From<pb::StarterItem> for StarterItem {
    fn from(i: pb::StarterItem) -> Self {
        Self {
            id: i.id,
            kind: i.kind,
            key: i.key,
            name: i.name,
            parent_key: i.parent_key,
            position: i.position,
        }
    }
}

/// `GET /v1/tenants/{id}/starter-data` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StarterData {
    pub(crate) template_version: String,
    pub(crate) items: Vec<StarterItem>,
}

/// `GET /v1/tenants/{id}/members` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Members {
    pub(crate) members: Vec<Membership>,
    /// The token for the next page (`?page_token=`); null on the last page.
    #[schema(required = true)]
    pub(crate) next_page_token: Option<String>,
}

/// `DELETE /v1/tenants/{id}/members/{user_id}` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MemberRemoved {
    pub(crate) remaining_members: u32,
}

/// One row of `POST /v1/tenants/{id}/invites`' answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InviteResult {
    pub(crate) email: String,
    /// `created`, `already_invited` or `already_member`.
    pub(crate) outcome: String,
    pub(crate) invite: Option<Invite>,
    /// The invite code (only when created; shown once).
    pub(crate) code: String,
}

/// `POST /v1/tenants/{id}/invites` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InviteResults {
    pub(crate) results: Vec<InviteResult>,
}

/// `GET /v1/tenants/{id}/invites` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Invites {
    pub(crate) invites: Vec<Invite>,
    /// The token for the next page (`?page_token=`); null on the last page.
    #[schema(required = true)]
    pub(crate) next_page_token: Option<String>,
}

/// `DELETE /v1/tenants/{id}/invites/{invite_id}` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RevokedInvite {
    pub(crate) invite: Option<Invite>,
}

/// `GET /v1/invites/{code}` answer: what the accept page shows before sign-in.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InviteLookup {
    pub(crate) tenant_name: String,
    pub(crate) inviter_display_name: String,
    pub(crate) role: String,
    pub(crate) masked_email: String,
    #[schema(format = DateTime)]
    pub(crate) expires_at: Option<String>,
}

/// `POST /v1/invites/{code}/accept` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InviteAccepted {
    pub(crate) tenant: Option<Tenant>,
    pub(crate) membership: Option<Membership>,
    pub(crate) already_member: bool,
}
