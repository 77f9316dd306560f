//! Invites over HTTP: bulk create, list and revoke (owners and admins), the public lookup behind the
//! accept page (`GET /v1/invites/{code}`, no sign-in), and accept (signed in).

use axum::{
    Json, Router,
    extract::{State, rejection::JsonRejection},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};
use http::{HeaderMap, StatusCode};
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

/// The invite routes' OpenAPI paths.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, list, revoke, lookup, accept))]
pub(crate) struct Api;

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

/// One invite to send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct InviteRow {
    email: String,
    /// `owner`, `admin` or `member`.
    role: String,
}

/// `POST /v1/tenants/{id}/invites` body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CreateInvitesBody)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    invites: Vec<InviteRow>,
}

/// Invites people by email (owners and admins); each row answers its own outcome.
#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/invites", tag = "invites",
    operation_id = "create_invites", security(("bearer" = [])), params(("tenant_id" = String, Path, description = "The tenant's id")),
    request_body = CreateBody,
    responses(
        (status = 201, description = "One result per row", body = json::InviteResults),
        (status = 402, description = "The workspace waits for its payment; retry after `Retry-After`"),
        (status = 404, description = "No such workspace, or the caller is not a member"),
    ))]
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
            json::InviteResult {
                email: r.email,
                outcome,
                invite: r.invite.map(json::Invite::from),
                code: r.code,
            }
        })
        .collect();
    Ok((StatusCode::CREATED, Json(json::InviteResults { results })).into_response())
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    state: Option<String>,
}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/invites", tag = "invites",
    operation_id = "list_invites", security(("bearer" = [])),
    params(("tenant_id" = String, Path, description = "The tenant's id"),
        ("state" = Option<String>, Query, description = "Only invites in this state: pending, accepted, revoked or expired"),
        PageQuery),
    responses(
        (status = 200, description = "The workspace's invites, one page", body = json::Invites),
        (status = 400, description = "A bad `state`, `page_size` or `page_token`"),
        (status = 404, description = "No such workspace, or the caller is not a member"),
    ))]
async fn list(
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    Query(query): Query<ListQuery>,
    Query(page): Query<PageQuery>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<json::Invites>, Problem> {
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
            page: Some(page.request()?),
        })
        .await
        .map_err(page::problem)?
        .into_inner();
    let invites: Vec<_> = answer.invites.into_iter().map(json::Invite::from).collect();
    Ok(Json(json::Invites {
        invites,
        next_page_token: page::next_page_token(answer.page),
    }))
}

#[utoipa::path(delete, path = "/v1/tenants/{tenant_id}/invites/{invite_id}", tag = "invites",
    operation_id = "revoke_invite", security(("bearer" = [])),
    params(("tenant_id" = String, Path, description = "The tenant's id"), ("invite_id" = String, Path, description = "The invite's id")),
    responses(
        (status = 200, description = "The revoked invite", body = json::RevokedInvite),
        (status = 404, description = "No such workspace or invite"),
        (status = 409, description = "The invite is no longer pending"),
    ))]
async fn revoke(
    State(state): State<AppState>,
    Path((tenant_id, invite_id)): Path<(String, String)>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<json::RevokedInvite>, Problem> {
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
    Ok(Json(json::RevokedInvite {
        invite: answer.invite.map(json::Invite::from),
    }))
}

/// `GET /v1/invites/{code}`: public; unknown, expired, revoked and accepted codes all answer 404.
#[utoipa::path(get, path = "/v1/invites/{code}", tag = "invites", operation_id = "lookup_invite",
    params(("code" = String, Path, description = "The invite code from the invite link")),
    responses(
        (status = 200, description = "What the accept page shows", body = json::InviteLookup),
        (status = 404, description = "Unknown, expired, revoked or accepted code"),
    ))]
async fn lookup(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Json<json::InviteLookup>, Problem> {
    let answer = state
        .peers
        .tenancy()
        .lookup_invite(pb::LookupInviteRequest {
            caller: Some(caller(None, &headers)),
            code,
        })
        .await?
        .into_inner();
    Ok(Json(json::InviteLookup {
        tenant_name: answer.tenant_name,
        inviter_display_name: answer.inviter_display_name,
        role: json::role(answer.role),
        masked_email: answer.masked_email,
        expires_at: crate::routes::json_time::rfc3339(answer.expires_at),
    }))
}

/// Joins the workspace; the signed-in user's verified email must be the invited one.
#[utoipa::path(post, path = "/v1/invites/{code}/accept", tag = "invites", operation_id = "accept_invite",
    security(("bearer" = [])), params(("code" = String, Path, description = "The invite code from the invite link")),
    responses(
        (status = 200, description = "The caller is a member", body = json::InviteAccepted),
        (status = 404, description = "Unknown, expired, revoked or accepted code"),
        (status = 409, description = "The invite is for another email"),
    ))]
async fn accept(
    State(state): State<AppState>,
    Path(code): Path<String>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<json::InviteAccepted>, Problem> {
    let answer = state
        .peers
        .tenancy()
        .accept_invite(pb::AcceptInviteRequest {
            caller: Some(caller(Some(&user), &headers)),
            code,
        })
        .await?
        .into_inner();
    Ok(Json(json::InviteAccepted {
        tenant: answer.tenant.map(json::Tenant::from),
        membership: answer.membership.map(json::Membership::from),
        already_member: answer.already_member,
    }))
}
