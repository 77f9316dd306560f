//! Workspaces over HTTP: `POST /v1/tenants` (with a required `Idempotency-Key`), reads, the status the
//! client polls, starter data (payment-gated: 402 + Retry-After), and members.

mod idempotency_key;
pub(crate) mod json;
pub(crate) mod members;

use axum::response::IntoResponse;
use http::{HeaderValue, StatusCode, header};
use onramp_proto::tenancy::v1::{self as pb, ProvisionTenantRequest};

use crate::routes::prelude::*;

pub(crate) use idempotency_key::IdempotencyKey;

body! {
    #[serde(deny_unknown_fields)]
    ProvisionBody => ProvisionTenantRequest(idempotency_key: String) {
        name: String,
        #[serde(default)]
        slug: String,
        #[serde(default)]
        plan_id: String,
    }
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
pub(crate) async fn provision(
    key: IdempotencyKey,
    c: Caller<AuthUser>,
    Json(body): Json<ProvisionBody>,
) -> Result<impl IntoResponse, Problem> {
    let request = body.request(c.meta(), key.0);
    let answer = answer(c.tenancy().provision_tenant(request)).await?;
    let replayed = HeaderValue::from_static(if answer.replayed { "true" } else { "false" });
    let json = Json(json::Provisioned::from(answer));
    Ok((
        StatusCode::CREATED,
        [("idempotent-replayed", replayed)],
        json,
    ))
}

one_rpc! {
    #[utoipa::path(get, path = "/v1/tenants", tag = "tenants", operation_id = "list_my_tenants",
        security(("bearer" = [])), params(PageQuery),
        responses(
            (status = 200, description = "The caller's workspaces, one page", body = json::MyTenants),
            (status = 400, description = "A bad `page_size` or `page_token`"),
        ))]
    pub(crate) fn list_mine(Query(page): Query<PageQuery>, c: Caller<AuthUser>) -> json::MyTenants =
        c.tenancy().list_my_tenants(pb::ListMyTenantsRequest {
            caller: c.meta(),
            page: Some(page.request()?),
        });
}

one_rpc! {
    #[utoipa::path(get, path = "/v1/tenants/{tenant_id}", tag = "tenants", operation_id = "get_tenant",
        security(("bearer" = [])), params(TenantPath),
        responses(
            (status = 200, description = "The workspace and the caller's role", body = json::TenantWithRole),
            NotAMember,
        ))]
    pub(crate) fn get_tenant(Path(tenant_id): Path<String>, c: Caller<AuthUser>) -> json::TenantWithRole =
        c.tenancy().get_tenant(pb::GetTenantRequest { caller: c.meta(), tenant_id });
}

/// `GET /v1/tenants/{id}/status`: never gated; carries `Retry-After` while payment is pending.
#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/status", tag = "tenants",
    operation_id = "get_tenant_status", security(("bearer" = [])), params(TenantPath),
    responses(
        (status = 200, description = "Whether the workspace is usable yet", body = json::Status,
            headers(("Retry-After" = u32, description = "Seconds to wait before polling again, while payment is pending"))),
        NotAMember,
    ))]
pub(crate) async fn status(
    Path(tenant_id): Path<String>,
    c: Caller<AuthUser>,
) -> Result<impl IntoResponse, Problem> {
    let request = pb::GetTenantStatusRequest {
        caller: c.meta(),
        tenant_id,
    };
    let status = answer(c.tenancy().get_tenant_status(request)).await?.status;
    let status = status.unwrap_or_default();
    let seconds = status.retry_after_seconds;
    let retry_after = (seconds > 0).then(|| [(header::RETRY_AFTER, HeaderValue::from(seconds))]);
    Ok((retry_after, Json(json::Status::from(status))))
}

one_rpc! {
    /// `GET /v1/tenants/{id}/starter-data`: a tenant-scoped, payment-gated route (402 PAYMENT_PENDING
    /// with Retry-After while pending).
    #[utoipa::path(get, path = "/v1/tenants/{tenant_id}/starter-data", tag = "tenants",
        operation_id = "get_starter_data", security(("bearer" = [])), params(TenantPath),
        responses(
            (status = 200, description = "The workspace's starter data", body = json::StarterData),
            (status = 402, description = "Payment is pending; retry after `Retry-After`"),
            NotAMember,
        ))]
    pub(crate) fn starter_data(Path(tenant_id): Path<String>, c: Caller<AuthUser>) -> json::StarterData =
        c.tenancy().get_starter_data(pb::GetStarterDataRequest { caller: c.meta(), tenant_id });
}
