//! Invites over HTTP: bulk create, list and revoke (owners and admins), the public lookup behind the
//! accept page (`GET /v1/invites/{code}`, no sign-in), and accept (signed in).

use onramp_proto::tenancy::v1 as pb;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::routes::prelude::*;
use crate::routes::tenants::{json, members::role};

/// One invite to send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InviteRow {
    #[schema(format = "email")]
    email: String,
    /// `owner`, `admin` or `member`.
    role: String,
}

/// `POST /v1/tenants/{id}/invites` body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CreateInvitesBody)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    invites: Vec<InviteRow>,
}

/// Invites people by email (owners and admins); each row answers its own outcome.
#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/invites", tag = "invites",
    operation_id = "create_invites", security(("bearer" = [])), params(TenantPath),
    request_body = CreateBody,
    responses(
        (status = 201, description = "One result per row", body = json::InviteResults),
        PaymentPending,
        NotAMember,
    ))]
pub(crate) async fn create(
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
    rpc(
        c.tenancy().create_invites(request),
        json::InviteResults::from,
    )
    .await
    .map(created)
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    state: Option<String>,
}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/invites", tag = "invites",
    operation_id = "list_invites", security(("bearer" = [])),
    params(TenantPath,
        ("state" = Option<String>, Query, description = "Only invites in this state: pending, accepted, revoked or expired"),
        PageQuery),
    responses(
        (status = 200, description = "The workspace's invites, one page", body = json::Invites),
        (status = 400, description = "A bad `state`, `page_size` or `page_token`"),
        NotAMember,
    ))]
pub(crate) async fn list(
    Path(tenant_id): Path<String>,
    Query(query): Query<ListQuery>,
    Query(page): Query<PageQuery>,
    c: Caller<AuthUser>,
) -> Result<Json<json::Invites>, Problem> {
    let filter: pb::InviteState = parse_optional(
        query.state.as_deref(),
        "state",
        "state must be pending, accepted, revoked or expired",
    )?;
    let request = pb::ListInvitesRequest {
        caller: c.meta(),
        tenant_id,
        state: filter.into(),
        page: Some(page.request()?),
    };
    rpc(c.tenancy().list_invites(request), json::Invites::from).await
}

one_rpc! {
    #[utoipa::path(delete, path = "/v1/tenants/{tenant_id}/invites/{invite_id}", tag = "invites",
        operation_id = "revoke_invite", security(("bearer" = [])),
        params(TenantPath, ("invite_id" = String, Path, description = "The invite's id")),
        responses(
            (status = 200, description = "The revoked invite", body = json::RevokedInvite),
            (status = 404, description = "No such workspace or invite"),
            (status = 409, description = "The invite is no longer pending"),
        ))]
    pub(crate) fn revoke(Path((tenant_id, invite_id)): Path<(String, String)>, c: Caller<AuthUser>)
        -> json::RevokedInvite = c.tenancy().revoke_invite(pb::RevokeInviteRequest {
            caller: c.meta(),
            tenant_id,
            invite_id,
        });
}

one_rpc! {
    /// `GET /v1/invites/{code}`: public; unknown, expired, revoked and accepted codes all answer 404.
    #[utoipa::path(get, path = "/v1/invites/{code}", tag = "invites", operation_id = "lookup_invite",
        params(("code" = String, Path, description = "The invite code from the invite link")),
        responses(
            (status = 200, description = "What the accept page shows", body = json::InviteLookup),
            (status = 404, description = "Unknown, expired, revoked or accepted code"),
        ))]
    pub(crate) fn lookup(Path(code): Path<String>, c: Caller) -> json::InviteLookup =
        c.tenancy().lookup_invite(pb::LookupInviteRequest { caller: c.meta(), code });
}

one_rpc! {
    /// Joins the workspace; the signed-in user's verified email must be the invited one.
    #[utoipa::path(post, path = "/v1/invites/{code}/accept", tag = "invites", operation_id = "accept_invite",
        security(("bearer" = [])), params(("code" = String, Path, description = "The invite code from the invite link")),
        responses(
            (status = 200, description = "The caller is a member", body = json::InviteAccepted),
            (status = 404, description = "Unknown, expired, revoked or accepted code"),
            (status = 409, description = "The invite is for another email"),
        ))]
    pub(crate) fn accept(Path(code): Path<String>, c: Caller<AuthUser>) -> json::InviteAccepted =
        c.tenancy().accept_invite(pb::AcceptInviteRequest { caller: c.meta(), code });
}
