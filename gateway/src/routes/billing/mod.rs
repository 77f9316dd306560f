//! Billing's HTTP routes: the public plan list (cacheable), the operators' catalog read/write
//! (`/v1/admin/plan-limits`) and the signed-in account routes ([`account`]). JSON <-> proto only;
//! billing decides everything.

mod account;

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use onramp_proto::{
    billing::v1::{
        self as pb, BillingInterval, BillingProvider, GetPlanCatalogRequest,
        ListPublicPlansRequest, PlanKind, PutPlanCatalogRequest, limit_value::Value as LimitKind,
    },
    common::v1::Money,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    auth::{AuthUser, caller},
    problem::Problem,
    routes::{AppState, identity::body::Body},
};

/// Billing's OpenAPI paths.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    public_plans,
    get_catalog,
    put_catalog,
    account::checkout,
    account::portal,
    account::start,
    account::subscription,
    account::usage
))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/plans/public", get(public_plans))
        .route("/v1/admin/plan-limits", get(get_catalog).put(put_catalog))
        .route("/v1/billing/checkout", post(account::checkout))
        .route("/v1/billing/portal", post(account::portal))
        .route("/v1/billing/start", post(account::start))
        .route("/v1/billing/subscription", get(account::subscription))
        .route("/v1/usage/{field}", get(account::usage))
}

/// A limit: `{"max": 3}`, `{"unlimited": true}` or `{"enabled": false}`.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[schema(as = PlanLimit)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitJson {
    field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<i64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    unlimited: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
    #[serde(default)]
    display_name: String,
}

/// A plan as JSON (prices in minor units).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[schema(as = Plan)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanJson {
    #[serde(default)]
    id: String,
    code: String,
    name: String,
    #[serde(default)]
    description: String,
    /// `paid`, `free` or `complimentary`.
    kind: String,
    #[serde(default)]
    price_amount_minor: i64,
    #[serde(default)]
    currency: String,
    /// `month`, `year` or absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    interval: Option<String>,
    #[serde(default)]
    per_seat: bool,
    #[serde(default)]
    trial_days: u32,
    #[serde(default)]
    trial_requires_card: bool,
    #[serde(default)]
    public: bool,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    sort_order: i32,
    #[serde(default)]
    highlights: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    stripe_product_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    stripe_price_id: String,
    #[serde(default)]
    limits: Vec<LimitJson>,
}

fn to_json(plan: pb::Plan) -> PlanJson {
    let kind = match plan.kind() {
        PlanKind::Paid => "paid",
        PlanKind::Free => "free",
        PlanKind::Complimentary => "complimentary",
        PlanKind::Unspecified => "unspecified",
    };
    let interval = match plan.interval() {
        BillingInterval::Month => Some("month".to_owned()),
        BillingInterval::Year => Some("year".to_owned()),
        BillingInterval::Unspecified => None,
    };
    let price = plan.price.clone().unwrap_or_default();
    PlanJson {
        kind: kind.to_owned(),
        interval,
        price_amount_minor: price.amount_minor,
        currency: price.currency,
        limits: plan
            .limits
            .into_iter()
            .map(|limit| {
                let mut json = LimitJson {
                    field: limit.field,
                    display_name: limit.display_name,
                    ..LimitJson::default()
                };
                match limit.value.and_then(|value| value.value) {
                    Some(LimitKind::Max(max)) => json.max = Some(max),
                    Some(LimitKind::Unlimited(_)) => json.unlimited = true,
                    Some(LimitKind::Enabled(on)) => json.enabled = Some(on),
                    None => {}
                }
                json
            })
            .collect(),
        id: plan.id,
        code: plan.code,
        name: plan.name,
        description: plan.description,
        per_seat: plan.per_seat,
        trial_days: plan.trial_days,
        trial_requires_card: plan.trial_requires_card,
        public: plan.public,
        archived: plan.archived,
        sort_order: plan.sort_order,
        highlights: plan.highlights,
        stripe_product_id: plan.stripe_product_id,
        stripe_price_id: plan.stripe_price_id,
    }
}

/// Unknown words become UNSPECIFIED, which billing refuses naming the field.
fn to_proto(plan: PlanJson) -> pb::Plan {
    let kind = match plan.kind.as_str() {
        "paid" => PlanKind::Paid,
        "free" => PlanKind::Free,
        "complimentary" => PlanKind::Complimentary,
        _ => PlanKind::Unspecified,
    };
    let interval = match plan.interval.as_deref() {
        Some("month") => BillingInterval::Month,
        Some("year") => BillingInterval::Year,
        _ => BillingInterval::Unspecified,
    };
    pb::Plan {
        id: plan.id,
        code: plan.code,
        name: plan.name,
        description: plan.description,
        kind: kind as i32,
        price: Some(Money {
            amount_minor: plan.price_amount_minor,
            currency: plan.currency,
        }),
        interval: interval as i32,
        per_seat: plan.per_seat,
        trial_days: plan.trial_days,
        trial_requires_card: plan.trial_requires_card,
        public: plan.public,
        archived: plan.archived,
        sort_order: plan.sort_order,
        highlights: plan.highlights,
        stripe_product_id: plan.stripe_product_id,
        stripe_price_id: plan.stripe_price_id,
        limits: plan
            .limits
            .into_iter()
            .map(|limit| {
                let value = match (limit.max, limit.unlimited, limit.enabled) {
                    (Some(max), false, None) => Some(LimitKind::Max(max)),
                    (None, true, None) => Some(LimitKind::Unlimited(pb::Unlimited {})),
                    (None, false, Some(on)) => Some(LimitKind::Enabled(on)),
                    // None or several: billing answers INVALID_ARGUMENT naming the limit's value.
                    _ => None,
                };
                pb::PlanLimit {
                    field: limit.field,
                    value: value.map(|value| pb::LimitValue { value: Some(value) }),
                    display_name: limit.display_name,
                }
            })
            .collect(),
    }
}

/// `GET /v1/plans/public` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PublicPlans {
    plans: Vec<PlanJson>,
    provider: &'static str,
}

#[utoipa::path(get, path = "/v1/plans/public", tag = "billing", operation_id = "list_public_plans",
    responses((status = 200, description = "The public plans, cacheable", body = PublicPlans,
        headers(("Cache-Control" = String, description = "public, max-age=N")))))]
async fn public_plans(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let response = state
        .peers
        .billing()
        .list_public_plans(ListPublicPlansRequest {
            caller: Some(caller(None, &headers)),
        })
        .await?
        .into_inner();
    let provider = match response.provider() {
        BillingProvider::Stripe => "stripe",
        BillingProvider::Manual => "manual",
        BillingProvider::Unspecified => "unspecified",
    };
    let max_age = response.cache_max_age_seconds;
    let body = PublicPlans {
        plans: response.plans.into_iter().map(to_json).collect(),
        provider,
    };
    let mut response = Json(body).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    Ok(response)
}

/// The catalog with its version (send it back as `expected_version`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = PlanCatalog)]
#[serde(deny_unknown_fields)]
pub(crate) struct CatalogJson {
    #[serde(alias = "expected_version")]
    version: i64,
    plans: Vec<PlanJson>,
}

#[utoipa::path(get, path = "/v1/admin/plan-limits", tag = "billing", operation_id = "get_plan_catalog",
    security(("bearer" = [])),
    responses((status = 200, description = "Every plan with its limits (operators only)", body = CatalogJson)))]
async fn get_catalog(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<CatalogJson>, Problem> {
    let response = state
        .peers
        .billing()
        .get_plan_catalog(GetPlanCatalogRequest {
            caller: Some(caller(Some(&user), &headers)),
        })
        .await?
        .into_inner();
    Ok(Json(CatalogJson {
        version: response.version,
        plans: response.plans.into_iter().map(to_json).collect(),
    }))
}

/// Replaces the catalog in one transaction; `version` must be the one last read.
#[utoipa::path(put, path = "/v1/admin/plan-limits", tag = "billing", operation_id = "put_plan_catalog",
    security(("bearer" = [])), request_body = CatalogJson,
    responses(
        (status = 200, description = "The new catalog (operators only)", body = CatalogJson),
        (status = 409, description = "The catalog changed since `version` was read"),
    ))]
async fn put_catalog(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Body(body): Body<CatalogJson>,
) -> Result<Json<CatalogJson>, Problem> {
    let response = state
        .peers
        .billing()
        .put_plan_catalog(PutPlanCatalogRequest {
            caller: Some(caller(Some(&user), &headers)),
            expected_version: body.version,
            plans: body.plans.into_iter().map(to_proto).collect(),
        })
        .await?
        .into_inner();
    Ok(Json(CatalogJson {
        version: response.version,
        plans: response.plans.into_iter().map(to_json).collect(),
    }))
}
