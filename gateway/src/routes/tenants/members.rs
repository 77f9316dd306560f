//! Members of a tenant: list, change role, remove (or leave).

use onramp_proto::tenancy::v1 as pb;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::routes::prelude::*;
use crate::routes::tenants::json;

one_rpc! {
    #[utoipa::path(get, path = "/v1/tenants/{tenant_id}/members", tag = "tenants",
        operation_id = "list_members", security(("bearer" = [])), params(TenantPath, PageQuery),
        responses(
            (status = 200, description = "The workspace's members, one page", body = json::Members),
            (status = 400, description = "A bad `page_size` or `page_token`"),
            NotAMember,
        ))]
    pub(crate) fn list(
        Path(tenant_id): Path<String>,
        Query(page): Query<PageQuery>,
        c: Caller<AuthUser>,
    ) -> json::Members = c.tenancy().list_members(pb::ListMembersRequest {
        caller: c.meta(),
        tenant_id,
        page: Some(page.request()?),
    });
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleBody {
    /// `owner`, `admin` or `member`.
    role: String,
}

/// A role from a JSON body, or a 400 naming `field`.
pub(crate) fn role(word: &str, field: impl Into<String>) -> Result<pb::Role, Problem> {
    parse_field(word, field, "role must be owner, admin or member")
}

one_rpc! {
    #[utoipa::path(patch, path = "/v1/tenants/{tenant_id}/members/{user_id}", tag = "tenants",
        operation_id = "change_member_role", security(("bearer" = [])), params(TenantPath, ("user_id" = String, Path, description = "The member's user id")),
        request_body = RoleBody,
        responses(
            (status = 200, description = "The membership with its new role", body = json::Membership),
            PaymentPending,
            (status = 404, description = "No such workspace or member"),
            (status = 409, description = "The change would leave the workspace without an owner"),
        ))]
    pub(crate) fn change_role(
        Path((tenant_id, user_id)): Path<(String, String)>,
        c: Caller<AuthUser>,
        Json(body): Json<RoleBody>,
    ) -> json::Membership = c.tenancy().change_member_role(pb::ChangeMemberRoleRequest {
        caller: c.meta(),
        tenant_id,
        user_id,
        role: role(&body.role, "role")?.into(),
    }), |answer| answer.membership.unwrap_or_default().into();
}

one_rpc! {
    /// Removes a member (or, for one's own user id, leaves).
    #[utoipa::path(delete, path = "/v1/tenants/{tenant_id}/members/{user_id}", tag = "tenants",
        operation_id = "remove_member", security(("bearer" = [])), params(TenantPath, ("user_id" = String, Path, description = "The member's user id")),
        responses(
            (status = 200, description = "Removed", body = json::MemberRemoved),
            (status = 404, description = "No such workspace or member"),
            (status = 409, description = "The last owner cannot leave"),
        ))]
    pub(crate) fn remove(
        Path((tenant_id, user_id)): Path<(String, String)>,
        c: Caller<AuthUser>,
    ) -> json::MemberRemoved = c.tenancy().remove_member(pb::RemoveMemberRequest {
        caller: c.meta(),
        tenant_id,
        user_id,
    });
}
