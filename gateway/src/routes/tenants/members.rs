//! Members of a tenant: list, change role, remove (or leave).

use axum::{
    Json,
    extract::{Path, State, rejection::JsonRejection},
};
use http::HeaderMap;
use onramp_kit::{ApiError, Code};
use onramp_proto::tenancy::v1 as pb;
use serde::Deserialize;

use crate::{
    auth::{AuthUser, caller},
    problem::Problem,
    routes::{
        AppState,
        tenants::{body, json},
    },
};

pub(super) async fn list(
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Problem> {
    let answer = state
        .peers
        .tenancy()
        .list_members(pb::ListMembersRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id,
            page: None,
        })
        .await?
        .into_inner();
    let members: Vec<_> = answer
        .members
        .into_iter()
        .map(json::Membership::from)
        .collect();
    Ok(Json(serde_json::json!({ "members": members })))
}

#[derive(Debug, Deserialize)]
pub(super) struct RoleBody {
    role: String,
}

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

pub(super) async fn remove(
    State(state): State<AppState>,
    Path((tenant_id, user_id)): Path<(String, String)>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Problem> {
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
    Ok(Json(
        serde_json::json!({ "remaining_members": answer.remaining_members }),
    ))
}
