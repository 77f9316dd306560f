//! Members of a tenant: list, change role, remove (or leave).

use onramp_kit::ApiError;
use onramp_proto::tenancy::v1 as pb;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    auth::AuthUser,
    problem::Problem,
    routes::{
        call::{Caller, rpc},
        extract::{Json, Path, Query},
        page::{self, PageQuery},
        tenants::json,
        words::parse,
    },
};

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/members", tag = "tenants",
    operation_id = "list_members", security(("bearer" = [])), params(("tenant_id" = String, Path, description = "The tenant's id"), PageQuery),
    responses(
        (status = 200, description = "The workspace's members, one page", body = json::Members),
        (status = 400, description = "A bad `page_size` or `page_token`"),
        (status = 404, description = "No such workspace, or the caller is not a member"),
    ))]
pub(super) async fn list(
    Path(tenant_id): Path<String>,
    Query(page): Query<PageQuery>,
    c: Caller<AuthUser>,
) -> Result<Json<json::Members>, Problem> {
    let request = pb::ListMembersRequest {
        caller: c.meta(),
        tenant_id,
        page: Some(page.request()?),
    };
    rpc(c.tenancy().list_members(request), |answer| json::Members {
        members: answer.members.into_iter().map(Into::into).collect(),
        next_page_token: page::next_page_token(answer.page),
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RoleBody {
    /// `owner`, `admin` or `member`.
    role: String,
}

/// A role from a JSON body, or a 400 naming `field`.
pub(crate) fn role(word: &str, field: impl Into<String>) -> Result<pb::Role, Problem> {
    parse(word).ok_or_else(|| {
        Problem(ApiError::invalid_field(
            field,
            "role must be owner, admin or member",
        ))
    })
}

#[utoipa::path(patch, path = "/v1/tenants/{tenant_id}/members/{user_id}", tag = "tenants",
    operation_id = "change_member_role", security(("bearer" = [])), params(("tenant_id" = String, Path, description = "The tenant's id"), ("user_id" = String, Path, description = "The member's user id")),
    request_body = RoleBody,
    responses(
        (status = 200, description = "The membership with its new role", body = json::Membership),
        (status = 402, description = "The workspace waits for its payment; retry after `Retry-After`"),
        (status = 404, description = "No such workspace or member"),
        (status = 409, description = "The change would leave the workspace without an owner"),
    ))]
pub(super) async fn change_role(
    Path((tenant_id, user_id)): Path<(String, String)>,
    c: Caller<AuthUser>,
    Json(body): Json<RoleBody>,
) -> Result<Json<json::Membership>, Problem> {
    let request = pb::ChangeMemberRoleRequest {
        caller: c.meta(),
        tenant_id,
        user_id,
        role: role(&body.role, "role")?.into(),
    };
    rpc(c.tenancy().change_member_role(request), |answer| {
        json::Membership::from(answer.membership.unwrap_or_default())
    })
    .await
}

/// Removes a member (or, for one's own user id, leaves).
#[utoipa::path(delete, path = "/v1/tenants/{tenant_id}/members/{user_id}", tag = "tenants",
    operation_id = "remove_member", security(("bearer" = [])), params(("tenant_id" = String, Path, description = "The tenant's id"), ("user_id" = String, Path, description = "The member's user id")),
    responses(
        (status = 200, description = "Removed", body = json::MemberRemoved),
        (status = 404, description = "No such workspace or member"),
        (status = 409, description = "The last owner cannot leave"),
    ))]
pub(super) async fn remove(
    Path((tenant_id, user_id)): Path<(String, String)>,
    c: Caller<AuthUser>,
) -> Result<Json<json::MemberRemoved>, Problem> {
    let request = pb::RemoveMemberRequest {
        caller: c.meta(),
        tenant_id,
        user_id,
    };
    rpc(c.tenancy().remove_member(request), |answer| {
        json::MemberRemoved {
            remaining_members: answer.remaining_members,
        }
    })
    .await
}
