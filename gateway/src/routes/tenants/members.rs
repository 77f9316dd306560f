//! Members of a tenant: list, change role, remove (or leave).

use axum::{
    Json,
    extract::{State, rejection::JsonRejection},
};
use http::HeaderMap;
use onramp_kit::{ApiError, Code};
use onramp_proto::tenancy::v1 as pb;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    auth::{AuthUser, caller},
    problem::Problem,
    routes::{
        AppState,
        extract::{Path, Query},
        page::{self, PageQuery},
        tenants::{body, json},
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
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    Query(page): Query<PageQuery>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<json::Members>, Problem> {
    let answer = state
        .peers
        .tenancy()
        .list_members(pb::ListMembersRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id,
            page: Some(page.request()?),
        })
        .await
        .map_err(page::problem)?
        .into_inner();
    let members: Vec<_> = answer
        .members
        .into_iter()
        .map(json::Membership::from)
        .collect();
    Ok(Json(json::Members {
        members,
        next_page_token: page::next_page_token(answer.page),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RoleBody {
    /// `owner`, `admin` or `member`.
    role: String,
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
    State(state): State<AppState>,
    Path((tenant_id, user_id)): Path<(String, String)>,
    user: AuthUser,
    headers: HeaderMap,
    request: Result<Json<RoleBody>, JsonRejection>,
) -> Result<Json<json::Membership>, Problem> {
    let request = body(request)?;
    let role = json::role_from(&request.role).ok_or_else(|| {
        Problem(
            ApiError::new(Code::InvalidArgument, "role must be owner, admin or member")
                .with_field("role"),
        )
    })?;
    let answer = state
        .peers
        .tenancy()
        .change_member_role(pb::ChangeMemberRoleRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id,
            user_id,
            role: role.into(),
        })
        .await?
        .into_inner();
    Ok(Json(json::Membership::from(
        answer.membership.unwrap_or_default(),
    )))
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
    State(state): State<AppState>,
    Path((tenant_id, user_id)): Path<(String, String)>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<json::MemberRemoved>, Problem> {
    let answer = state
        .peers
        .tenancy()
        .remove_member(pb::RemoveMemberRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id,
            user_id,
        })
        .await?
        .into_inner();
    Ok(Json(json::MemberRemoved {
        remaining_members: answer.remaining_members,
    }))
}
