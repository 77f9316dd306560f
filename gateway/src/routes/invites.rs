//! Invites over HTTP: bulk create, list and revoke (owners and admins), the public lookup behind the
//! accept page (`GET /v1/invites/{code}`, no sign-in), and accept (signed in).

use onramp_kit::ApiError;
use onramp_proto::tenancy::v1 as pb;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::AuthUser,
    problem::Problem,
    routes::{
        Routes,
        call::{Caller, created, rpc},
        extract::{Json, Path, Query},
        json_time::rfc3339,
        page::{self, PageQuery},
        tenants::{json, members::role},
        words::{parse, word_of},
    },
};

/// The invite routes.
pub(crate) fn routes() -> Routes {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
        .routes(routes!(lookup))
        .routes(routes!(accept))
}

/// One invite to send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct InviteRow {
    #[schema(format = "email")]
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
    Path(tenant_id): Path<String>,
    c: Caller<AuthUser>,
    Json(body): Json<CreateBody>,
) -> Result<(http::StatusCode, Json<json::InviteResults>), Problem> {
    let invites = (body.invites.into_iter().enumerate())
        .map(|(i, row)| {
            Ok(pb::InviteSpec {
                role: role(&row.role, format!("invites[{i}].role"))?.into(),
                email: row.email,
            })
        })
        .collect::<Result<_, Problem>>()?;
    let request = pb::CreateInvitesRequest {
        caller: c.meta(),
        tenant_id,
        invites,
    };
    rpc(c.tenancy().create_invites(request), |answer| {
        let results = (answer.results.into_iter())
            .map(|r| json::InviteResult {
                outcome: word_of::<pb::InviteOutcome>(r.outcome),
                email: r.email,
                invite: r.invite.map(json::Invite::from),
                code: r.code,
            })
            .collect();
        json::InviteResults { results }
    })
    .await
    .map(created)
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
    Path(tenant_id): Path<String>,
    Query(query): Query<ListQuery>,
    Query(page): Query<PageQuery>,
    c: Caller<AuthUser>,
) -> Result<Json<json::Invites>, Problem> {
    let filter = match query.state.as_deref() {
        None | Some("") => pb::InviteState::Unspecified,
        Some(word) => parse(word).ok_or_else(|| {
            Problem(ApiError::invalid_field(
                "state",
                "state must be pending, accepted, revoked or expired",
            ))
        })?,
    };
    let request = pb::ListInvitesRequest {
        caller: c.meta(),
        tenant_id,
        state: filter.into(),
        page: Some(page.request()?),
    };
    rpc(c.tenancy().list_invites(request), |answer| json::Invites {
        invites: answer.invites.into_iter().map(Into::into).collect(),
        next_page_token: page::next_page_token(answer.page),
    })
    .await
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
    Path((tenant_id, invite_id)): Path<(String, String)>,
    c: Caller<AuthUser>,
) -> Result<Json<json::RevokedInvite>, Problem> {
    let request = pb::RevokeInviteRequest {
        caller: c.meta(),
        tenant_id,
        invite_id,
    };
    rpc(c.tenancy().revoke_invite(request), |answer| {
        json::RevokedInvite {
            invite: answer.invite.map(json::Invite::from),
        }
    })
    .await
}

/// `GET /v1/invites/{code}`: public; unknown, expired, revoked and accepted codes all answer 404.
#[utoipa::path(get, path = "/v1/invites/{code}", tag = "invites", operation_id = "lookup_invite",
    params(("code" = String, Path, description = "The invite code from the invite link")),
    responses(
        (status = 200, description = "What the accept page shows", body = json::InviteLookup),
        (status = 404, description = "Unknown, expired, revoked or accepted code"),
    ))]
async fn lookup(Path(code): Path<String>, c: Caller) -> Result<Json<json::InviteLookup>, Problem> {
    let request = pb::LookupInviteRequest {
        caller: c.meta(),
        code,
    };
    rpc(c.tenancy().lookup_invite(request), |answer| {
        json::InviteLookup {
            tenant_name: answer.tenant_name,
            inviter_display_name: answer.inviter_display_name,
            role: word_of::<pb::Role>(answer.role),
            masked_email: answer.masked_email,
            expires_at: rfc3339(answer.expires_at),
        }
    })
    .await
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
    Path(code): Path<String>,
    c: Caller<AuthUser>,
) -> Result<Json<json::InviteAccepted>, Problem> {
    let request = pb::AcceptInviteRequest {
        caller: c.meta(),
        code,
    };
    rpc(c.tenancy().accept_invite(request), |answer| {
        json::InviteAccepted {
            tenant: answer.tenant.map(json::Tenant::from),
            membership: answer.membership.map(json::Membership::from),
            already_member: answer.already_member,
        }
    })
    .await
}
