//! Workspaces over HTTP: `POST /v1/tenants` (with a required `Idempotency-Key`), reads, the status the
//! client polls, starter data (payment-gated: 402 + Retry-After), and members.

mod idempotency_key;
pub(crate) mod json;
mod members;

use axum::{
    Json, Router,
    extract::{State, rejection::JsonRejection},
    response::{IntoResponse, Response},
    routing::{delete, get},
};
use http::{HeaderMap, HeaderValue, StatusCode, header};
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
    },
};

pub(crate) use idempotency_key::IdempotencyKey;

/// The tenant routes' OpenAPI paths.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    provision,
    list_mine,
    get_tenant,
    status,
    starter_data,
    members::list,
    members::change_role,
    members::remove
))]
pub(crate) struct Api;

/// The tenant routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/tenants", get(list_mine).post(provision))
        .route("/v1/tenants/{tenant_id}", get(get_tenant))
        .route("/v1/tenants/{tenant_id}/status", get(status))
        .route("/v1/tenants/{tenant_id}/starter-data", get(starter_data))
        .route("/v1/tenants/{tenant_id}/members", get(members::list))
        .route(
            "/v1/tenants/{tenant_id}/members/{user_id}",
            delete(members::remove).patch(members::change_role),
        )
}

/// A JSON body, or a 400 problem naming what is wrong with it.
pub(crate) fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, Problem> {
    body.map(|Json(value)| value)
        .map_err(|rejection| super::extract::json_problem(&rejection))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProvisionBody {
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    plan_id: String,
}

/// `POST /v1/tenants`: 201 with the first result for the key; replays are byte-identical and say
/// so in `Idempotent-Replayed`.
#[utoipa::path(post, path = "/v1/tenants", tag = "tenants", operation_id = "provision_tenant",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header,
        description = "Required: 1-255 printable ASCII characters without spaces (a UUID v4 is recommended). \
            The same key always answers the same tenant.")),
    request_body = ProvisionBody,
    responses(
        (status = 201, description = "The workspace (or, on replay, the first answer byte for byte)",
            body = json::Provisioned,
            headers(("Idempotent-Replayed" = String, description = "`true` when this answers an earlier request with the same key"))),
        (status = 402, description = "The plan needs payment first"),
        (status = 409, description = "The slug is taken"),
        (status = 422, description = "The key was used with other parameters, or provisioning failed as a whole"),
    ))]
async fn provision(
    State(state): State<AppState>,
    key: IdempotencyKey,
    user: AuthUser,
    headers: HeaderMap,
    request: Result<Json<ProvisionBody>, JsonRejection>,
) -> Result<Response, Problem> {
    let request = body(request)?;
    let answer = state
        .peers
        .tenancy()
        .provision_tenant(pb::ProvisionTenantRequest {
            caller: Some(caller(Some(&user), &headers)),
            idempotency_key: key.0,
            name: request.name,
            slug: request.slug,
            plan_id: request.plan_id,
        })
        .await?
        .into_inner();
    let replayed = answer.replayed;
    let mut response = (StatusCode::CREATED, Json(json::Provisioned::from(answer))).into_response();
    response.headers_mut().insert(
        "idempotent-replayed",
        HeaderValue::from_static(if replayed { "true" } else { "false" }),
    );
    Ok(response)
}

#[utoipa::path(get, path = "/v1/tenants", tag = "tenants", operation_id = "list_my_tenants",
    security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "The caller's workspaces, one page", body = json::MyTenants),
        (status = 400, description = "A bad `page_size` or `page_token`"),
    ))]
async fn list_mine(
    State(state): State<AppState>,
    Query(page): Query<PageQuery>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<json::MyTenants>, Problem> {
    let answer = state
        .peers
        .tenancy()
        .list_my_tenants(pb::ListMyTenantsRequest {
            caller: Some(caller(Some(&user), &headers)),
            page: Some(page.request()?),
        })
        .await
        .map_err(page::problem)?
        .into_inner();
    let tenants: Vec<_> = answer
        .tenants
        .into_iter()
        .map(|t| json::TenantWithRole {
            tenant: t.tenant.map(json::Tenant::from),
            role: json::role(t.role),
        })
        .collect();
    Ok(Json(json::MyTenants {
        tenants,
        next_page_token: page::next_page_token(answer.page),
    }))
}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}", tag = "tenants", operation_id = "get_tenant",
    security(("bearer" = [])), params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "The workspace and the caller's role", body = json::TenantWithRole),
        (status = 404, description = "No such workspace, or the caller is not a member"),
    ))]
async fn get_tenant(
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<json::TenantWithRole>, Problem> {
    let answer = state
        .peers
        .tenancy()
        .get_tenant(pb::GetTenantRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id,
        })
        .await?
        .into_inner();
    Ok(Json(json::TenantWithRole {
        tenant: answer.tenant.map(json::Tenant::from),
        role: json::role(answer.caller_role),
    }))
}

/// `GET /v1/tenants/{id}/status`: never gated; carries `Retry-After` while payment is pending.
#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/status", tag = "tenants",
    operation_id = "get_tenant_status", security(("bearer" = [])), params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "Whether the workspace is usable yet", body = json::Status,
            headers(("Retry-After" = u32, description = "Seconds to wait before polling again, while payment is pending"))),
        (status = 404, description = "No such workspace, or the caller is not a member"),
    ))]
async fn status(
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let answer = state
        .peers
        .tenancy()
        .get_tenant_status(pb::GetTenantStatusRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id,
        })
        .await?
        .into_inner();
    let status = answer.status.unwrap_or_default();
    let retry_after = status.retry_after_seconds;
    let mut response = Json(json::Status::from(status)).into_response();
    if retry_after > 0 {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    }
    Ok(response)
}

/// `GET /v1/tenants/{id}/starter-data`: a tenant-scoped, payment-gated route (402 PAYMENT_PENDING
/// with Retry-After while pending).
#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/starter-data", tag = "tenants",
    operation_id = "get_starter_data", security(("bearer" = [])), params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "The workspace's starter data", body = json::StarterData),
        (status = 402, description = "Payment is pending; retry after `Retry-After`"),
        (status = 404, description = "No such workspace, or the caller is not a member"),
    ))]
async fn starter_data(
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<json::StarterData>, Problem> {
    let answer = state
        .peers
        .tenancy()
        .get_starter_data(pb::GetStarterDataRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id,
        })
        .await?
        .into_inner();
    Ok(Json(json::StarterData {
        template_version: answer.template_version,
        items: answer
            .items
            .into_iter()
            .map(json::StarterItem::from)
            .collect(),
    }))
}
