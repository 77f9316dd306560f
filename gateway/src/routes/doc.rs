//! What many routes document alike, written once: the workspace in the path or the query, and the
//! answers of the routes that act on a workspace. Documentation only: nothing constructs these.
#![allow(dead_code, reason = "types that exist for their OpenAPI derive only")]

use utoipa::{IntoParams, IntoResponses};

/// `{tenant_id}` in a route's path.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct TenantPath {
    /// The tenant's id
    tenant_id: String,
}

/// `?tenant_id=` on a route that names its workspace in the query.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TenantParam {
    /// The tenant's id
    tenant_id: String,
}

/// No such workspace, or the caller is not a member
#[derive(Debug, IntoResponses)]
#[response(status = 404)]
pub(crate) struct NotAMember;

/// The workspace waits for its payment; retry after `Retry-After`
#[derive(Debug, IntoResponses)]
#[response(status = 402)]
pub(crate) struct PaymentPending;
