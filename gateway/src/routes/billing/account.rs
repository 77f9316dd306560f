//! The signed-in billing routes: checkout, portal, card-less start, the subscription summary and usage.
//! The tenant is named by `tenant_id` (query for reads, body for writes); billing checks membership.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::HeaderMap,
};
use onramp_proto::billing::v1::{
    CreateCheckoutSessionRequest, CreatePortalSessionRequest, GetSubscriptionSummaryRequest,
    GetUsageRequest, LimitValue, StartPlanWithoutCardRequest, SubscriptionSummary,
    limit_value::Value as Limit,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    auth::{AuthUser, caller},
    problem::Problem,
    routes::AppState,
};

#[derive(Debug, Deserialize)]
pub(crate) struct TenantQuery {
    #[serde(default)]
    tenant_id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CheckoutBody {
    #[serde(default)]
    tenant_id: String,
    #[serde(default)]
    plan_id: String,
    #[serde(default)]
    seats: u32,
    #[serde(default)]
    success_url: String,
    #[serde(default)]
    cancel_url: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct CheckoutAnswer {
    checkout_url: String,
    checkout_session_id: String,
    expires_at: Option<i64>,
}

pub(crate) async fn checkout(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Json(body): Json<CheckoutBody>,
) -> Result<Json<CheckoutAnswer>, Problem> {
    let response = state
        .peers
        .billing()
        .create_checkout_session(CreateCheckoutSessionRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id: body.tenant_id,
            plan_id: body.plan_id,
            seats: body.seats,
            success_url: body.success_url,
            cancel_url: body.cancel_url,
        })
        .await?
        .into_inner();
    Ok(Json(CheckoutAnswer {
        checkout_url: response.checkout_url,
        checkout_session_id: response.checkout_session_id,
        expires_at: response.expires_at.map(|t| t.seconds),
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct PortalBody {
    #[serde(default)]
    tenant_id: String,
    #[serde(default)]
    return_url: String,
}

pub(crate) async fn portal(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Json(body): Json<PortalBody>,
) -> Result<Json<Value>, Problem> {
    let response = state
        .peers
        .billing()
        .create_portal_session(CreatePortalSessionRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id: body.tenant_id,
            return_url: body.return_url,
        })
        .await?
        .into_inner();
    Ok(Json(json!({ "portal_url": response.portal_url })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct StartBody {
    #[serde(default)]
    tenant_id: String,
    #[serde(default)]
    plan_id: String,
}

fn summary_json(summary: SubscriptionSummary) -> Value {
    json!({
        "tenant_id": summary.tenant_id,
        "provider": summary.provider().as_str_name().trim_start_matches("BILLING_PROVIDER_").to_lowercase(),
        "plan": summary.plan.as_ref().map(|plan| json!({"id": plan.id, "code": plan.code, "name": plan.name})),
        "status": summary.status().as_str_name().trim_start_matches("SUBSCRIPTION_STATUS_").to_lowercase(),
        "trial_state": summary.trial_state().as_str_name().trim_start_matches("TRIAL_STATE_").to_lowercase(),
        "trial_days_left": summary.trial_days_left,
        "trial_ends_at": summary.trial_ends_at.map(|t| t.seconds),
        "current_period_end": summary.current_period_end.map(|t| t.seconds),
        "cancel_at_period_end": summary.cancel_at_period_end,
        "seats": summary.seats,
        "has_billing_account": summary.has_billing_account,
    })
}

pub(crate) async fn start(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Json(body): Json<StartBody>,
) -> Result<Json<Value>, Problem> {
    let response = state
        .peers
        .billing()
        .start_plan_without_card(StartPlanWithoutCardRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id: body.tenant_id,
            plan_id: body.plan_id,
        })
        .await?
        .into_inner();
    Ok(Json(
        response.summary.map(summary_json).unwrap_or(Value::Null),
    ))
}

pub(crate) async fn subscription(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(query): Query<TenantQuery>,
) -> Result<Json<Value>, Problem> {
    let response = state
        .peers
        .billing()
        .get_subscription_summary(GetSubscriptionSummaryRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id: query.tenant_id,
        })
        .await?
        .into_inner();
    Ok(Json(
        response.summary.map(summary_json).unwrap_or(Value::Null),
    ))
}

fn limit_json(limit: Option<LimitValue>) -> Value {
    match limit.and_then(|limit| limit.value) {
        Some(Limit::Max(max)) => json!(max),
        // `null` means unlimited.
        Some(Limit::Unlimited(_)) | None => Value::Null,
        Some(Limit::Enabled(on)) => json!(on),
    }
}

pub(crate) async fn usage(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(field): Path<String>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<Value>, Problem> {
    let response = state
        .peers
        .billing()
        .get_usage(GetUsageRequest {
            caller: Some(caller(Some(&user), &headers)),
            tenant_id: query.tenant_id,
            field,
        })
        .await?
        .into_inner();
    Ok(Json(json!({
        "field": response.field,
        "used": response.used,
        "limit": limit_json(response.limit),
    })))
}
