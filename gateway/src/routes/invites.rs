//! Invites over HTTP: bulk create, list and revoke (owners and admins), the public lookup behind the
//! accept page (`GET /v1/invites/{code}`, no sign-in), and accept (signed in).

use axum::{
    Json, Router,
    extract::{Path, Query, State, rejection::JsonRejection},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};
use http::{HeaderMap, StatusCode};
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

/// The invite routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/tenants/{tenant_id}/invites", get(list).post(create))
        .route(
            "/v1/tenants/{tenant_id}/invites/{invite_id}",
            delete(revoke),
        )
        .route("/v1/invites/{code}", get(lookup))
        .route("/v1/invites/{code}/accept", post(accept))
}

#[derive(Debug, Deserialize)]
struct InviteRow {
    email: String,
    role: String,
}

#[derive(Debug, Deserialize)]
struct CreateBody {
    invites: Vec<InviteRow>,
}

async fn create(
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    user: AuthUser,
    headers: HeaderMap,
    request: Result<Json<CreateBody>, JsonRejection>,
) -> Result<Response, Problem> {
    let request = body(request)?;
    let invites = request
        .invites
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let role = json::role_from(&row.role).ok_or_else(|| {
                Problem(
                    ApiError::new(Code::InvalidArgument, "role must be owner, admin or member")
                        .with_field(format!("invites[{i}].role")),
                )
            })?;
            Ok(pb::InviteSpec {
                email: row.email,
                role: role.into(),
            })
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    let answer = state
        .peers
        .tenancy()
        .create_invites(pb::CreateInvitesRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id,
            invites,
        })
        .await?
        .into_inner();
    let results: Vec<_> = answer
        .results
        .into_iter()
        .map(|r| {
            let outcome = match pb::InviteOutcome::try_from(r.outcome) {
                Ok(pb::InviteOutcome::Created) => "created",
                Ok(pb::InviteOutcome::AlreadyInvited) => "already_invited",
                Ok(pb::InviteOutcome::AlreadyMember) => "already_member",
                _ => "unspecified",
            };
            serde_json::json!({ "email": r.email, "outcome": outcome,
                "invite": r.invite.map(json::Invite::from), "code": r.code })
        })
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "results": results })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    state: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    Query(query): Query<ListQuery>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Problem> {
    let filter = match query.state.as_deref() {
        None | Some("") => pb::InviteState::Unspecified,
        Some("pending") => pb::InviteState::Pending,
        Some("accepted") => pb::InviteState::Accepted,
        Some("revoked") => pb::InviteState::Revoked,
        Some("expired") => pb::InviteState::Expired,
        Some(_) => {
            return Err(Problem(
                ApiError::new(
                    Code::InvalidArgument,
                    "state must be pending, accepted, revoked or expired",
                )
                .with_field("state"),
            ));
        }
    };
    let answer = state
        .peers
        .tenancy()
        .list_invites(pb::ListInvitesRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id,
            state: filter.into(),
            page: None,
        })
        .await?
        .into_inner();
    let invites: Vec<_> = answer.invites.into_iter().map(json::Invite::from).collect();
    Ok(Json(serde_json::json!({ "invites": invites })))
}

async fn revoke(
    State(state): State<AppState>,
    Path((tenant_id, invite_id)): Path<(String, String)>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Problem> {
    let answer = state
        .peers
        .tenancy()
        .revoke_invite(pb::RevokeInviteRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id,
            invite_id,
        })
        .await?
        .into_inner();
    Ok(Json(
        serde_json::json!({ "invite": answer.invite.map(json::Invite::from) }),
    ))
}

/// `GET /v1/invites/{code}`: public; unknown, expired, revoked and accepted codes all answer 404.
async fn lookup(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Problem> {
    let answer = state
        .peers
        .tenancy()
        .lookup_invite(pb::LookupInviteRequest {
            caller: Some(caller(None, &headers)),
            code,
        })
        .await?
        .into_inner();
    Ok(Json(serde_json::json!({
        "tenant_name": answer.tenant_name,
        "inviter_display_name": answer.inviter_display_name,
        "role": json::role(answer.role),
        "masked_email": answer.masked_email,
        "expires_at": answer.expires_at.map(|at| at.to_string()),
    })))
}

async fn accept(
    State(state): State<AppState>,
    Path(code): Path<String>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Problem> {
    let answer = state
        .peers
        .tenancy()
        .accept_invite(pb::AcceptInviteRequest {
            caller: Some(caller(Some(&user), &headers)),
            code,
        })
        .await?
        .into_inner();
    Ok(Json(serde_json::json!({
        "tenant": answer.tenant.map(json::Tenant::from),
        "membership": answer.membership.map(json::Membership::from),
        "already_member": answer.already_member,
    })))
}
