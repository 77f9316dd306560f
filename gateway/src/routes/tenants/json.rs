//! The JSON shapes of the tenant and invite routes (stable field order, so a replayed provisioning
//! result serialises to the same bytes).

use onramp_proto::tenancy::v1 as pb;

use crate::routes::shape::{each, known, opt, time, word_of};

answer! {
    /// A workspace (times are RFC 3339).
    Tenant from pb::Tenant {
        id: String,
        name: String,
        slug: String,
        state: String => word_of::<pb::TenantState>,
        state_changed_at: Option<String> => time,
        activated_at: Option<String> => time,
        created_at: Option<String> => time,
        starter_template_version: String,
    }
}

answer! {
    /// Whether the workspace is usable (what a client polls during the payment race).
    #[schema(as = TenantStatus)]
    Status from pb::TenantStatus {
        tenant_id: String,
        state: String => word_of::<pb::TenantState>,
        ready: bool,
        gate: String => word_of::<pb::TenantGate>,
        retry_after_seconds: u32,
        message: String,
        state_changed_at: Option<String> => time,
    }
}

answer! {
    Membership from pb::Membership {
        tenant_id: String,
        user_id: String,
        role: String => word_of::<pb::Role>,
        joined_at: Option<String> => time,
        /// The member's email, as identity knows it. Present in the members list; absent where it was
        /// not looked up (the provisioning answer, a role change) or identity did not answer — never an
        /// empty placeholder.
        #[serde(skip_serializing_if = "Option::is_none")]
        email: Option<String> => known,
        /// The member's display name, as identity knows it; present and absent as `email` is.
        #[serde(skip_serializing_if = "Option::is_none")]
        display_name: Option<String> => known,
    }
}

answer! {
    /// The body of `POST /v1/tenants` (the replay flag travels in a header, never here).
    Provisioned from pb::ProvisionTenantResponse {
        tenant: Option<Tenant> => opt,
        owner_membership: Option<Membership> => opt,
        status: Option<Status> => opt,
    }
}

answer! {
    Invite from pb::Invite {
        id: String,
        tenant_id: String,
        email: String,
        role: String => word_of::<pb::Role>,
        state: String => word_of::<pb::InviteState>,
        invited_by_user_id: String,
        created_at: Option<String> => time,
        expires_at: Option<String> => time,
        accepted_at: Option<String> => time,
        revoked_at: Option<String> => time,
    }
}

/// A tenant with the caller's role in it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct TenantWithRole {
    tenant: Option<Tenant>,
    /// `owner`, `admin` or `member`.
    role: String,
}

impl TenantWithRole {
    pub(crate) fn new(tenant: Option<pb::Tenant>, role: i32) -> Self {
        let (tenant, role) = (opt(tenant), word_of::<pb::Role>(role));
        Self { tenant, role }
    }
}

impl From<pb::TenantMembership> for TenantWithRole {
    fn from(t: pb::TenantMembership) -> Self {
        Self::new(t.tenant, t.role)
    }
}

impl From<pb::GetTenantResponse> for TenantWithRole {
    fn from(t: pb::GetTenantResponse) -> Self {
        Self::new(t.tenant, t.caller_role)
    }
}

answer! {
    /// `GET /v1/tenants` answer.
    MyTenants from pb::ListMyTenantsResponse, paged {
        tenants: Vec<TenantWithRole> => each,
    }
}

answer! {
    /// One item of a tenant's starter data.
    StarterItem from pb::StarterItem {
        id: String,
        kind: String,
        key: String,
        name: String,
        parent_key: String,
        position: u32,
    }
}

answer! {
    /// `GET /v1/tenants/{id}/starter-data` answer.
    StarterData from pb::GetStarterDataResponse {
        template_version: String,
        items: Vec<StarterItem> => each,
    }
}

answer! {
    /// `GET /v1/tenants/{id}/members` answer.
    Members from pb::ListMembersResponse, paged {
        members: Vec<Membership> => each,
    }
}

answer! {
    /// `DELETE /v1/tenants/{id}/members/{user_id}` answer.
    MemberRemoved from pb::RemoveMemberResponse {
        remaining_members: u32,
    }
}

answer! {
    /// One row of `POST /v1/tenants/{id}/invites`' answer.
    InviteResult from pb::InviteResult {
        email: String,
        /// `created`, `already_invited` or `already_member`.
        outcome: String => word_of::<pb::InviteOutcome>,
        invite: Option<Invite> => opt,
        /// The invite code (only when created; shown once).
        code: String,
    }
}

answer! {
    /// `POST /v1/tenants/{id}/invites` answer.
    InviteResults from pb::CreateInvitesResponse {
        results: Vec<InviteResult> => each,
    }
}

answer! {
    /// `GET /v1/tenants/{id}/invites` answer.
    Invites from pb::ListInvitesResponse, paged {
        invites: Vec<Invite> => each,
    }
}

answer! {
    /// `DELETE /v1/tenants/{id}/invites/{invite_id}` answer.
    RevokedInvite from pb::RevokeInviteResponse {
        invite: Option<Invite> => opt,
    }
}

answer! {
    /// `GET /v1/invites/{code}` answer: what the accept page shows before sign-in.
    InviteLookup from pb::LookupInviteResponse {
        tenant_name: String,
        inviter_display_name: String,
        role: String => word_of::<pb::Role>,
        masked_email: String,
        expires_at: Option<String> => time,
    }
}

answer! {
    /// `POST /v1/invites/{code}/accept` answer.
    InviteAccepted from pb::AcceptInviteResponse {
        tenant: Option<Tenant> => opt,
        membership: Option<Membership> => opt,
        already_member: bool,
    }
}
