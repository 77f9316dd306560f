//! `POST /v1/sales-leads`: the public contact-sales form. Anonymous; the client IP (from the trusted
//! proxy header only) is the rate-limit key, counted by the onboarding service in Postgres.

use axum::http::StatusCode;
use onramp_proto::onboarding::v1::{CompanySize, SubmitSalesLeadRequest, SubmitSalesLeadResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::routes::prelude::*;

/// The form. Missing text fields are empty and named by the service's validation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SalesLeadBody {
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    #[schema(format = "email")]
    email: String,
    #[serde(default)]
    company: String,
    /// `solo`, `small`, `medium`, `large`, `enterprise` or `huge`; optional.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^(|solo|small|medium|large|enterprise|huge)$")]
    company_size: Option<String>,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    source: String,
}

answer! {
    SalesLeadCreated from SubmitSalesLeadResponse {
        lead_id: String,
        received_at: Option<String> => time,
    }
}

/// `POST /v1/sales-leads`: anonymous; 5 per hour per client IP.
#[utoipa::path(post, path = "/v1/sales-leads", tag = "sales", operation_id = "submit_sales_lead",
    request_body = SalesLeadBody,
    responses(
        (status = 201, description = "The lead is stored; sales is notified by email", body = SalesLeadCreated),
        (status = 429, description = "Too many leads from this client in the last hour"),
    ))]
pub(crate) async fn submit(
    c: Caller,
    Json(body): Json<SalesLeadBody>,
) -> Result<(StatusCode, Json<SalesLeadCreated>), Problem> {
    let request = SubmitSalesLeadRequest {
        caller: c.meta(),
        full_name: body.full_name,
        email: body.email,
        company: body.company,
        company_size: parse_optional::<CompanySize>(
            body.company_size.as_deref(),
            "company_size",
            "company_size: must be one of solo, small, medium, large, enterprise, huge",
        )?
        .into(),
        phone: body.phone,
        message: body.message,
        source: body.source,
    };
    rpc(
        c.onboarding().submit_sales_lead(request),
        SalesLeadCreated::from,
    )
    .await
    .map(created)
}
