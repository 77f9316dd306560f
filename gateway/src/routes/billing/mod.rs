//! Billing's HTTP routes: the public plan list (cacheable), the operators' catalog read/write
//! (`/v1/admin/plan-limits`) and the signed-in account routes ([`account`]). JSON <-> proto only;
//! billing decides everything.

pub(super) mod account;

use axum::{
    http::{HeaderValue, header},
    response::IntoResponse,
};
use onramp_proto::{
    billing::v1::{
        self as pb, BillingInterval, GetPlanCatalogRequest, ListPublicPlansRequest, Plan, PlanKind,
        PutPlanCatalogRequest, limit_value::Value as LimitKind,
    },
    common::v1::Money,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::routes::prelude::*;

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

/// `$to { fields… }` plus every field the JSON plan and the proto plan share, copied from `plan`
/// (written once, for both directions).
macro_rules! plan {
    ($to:ident { $($field:ident: $value:expr),* $(,)? } from $plan:ident) => {
        $to {
            $($field: $value,)*
            id: $plan.id,
            code: $plan.code,
            name: $plan.name,
            description: $plan.description,
            per_seat: $plan.per_seat,
            trial_days: $plan.trial_days,
            trial_requires_card: $plan.trial_requires_card,
            public: $plan.public,
            archived: $plan.archived,
            sort_order: $plan.sort_order,
            highlights: $plan.highlights,
            stripe_product_id: $plan.stripe_product_id,
            stripe_price_id: $plan.stripe_price_id,
        }
    };
}

fn to_json(plan: pb::Plan) -> PlanJson {
    let interval = Some(plan.interval()).filter(|i| *i != BillingInterval::Unspecified);
    let price = plan.price.clone().unwrap_or_default();
    plan!(PlanJson {
        kind: word(plan.kind()),
        interval: interval.map(word),
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
    } from plan)
}

/// Unknown words become UNSPECIFIED, which billing refuses naming the field.
fn to_proto(plan: PlanJson) -> pb::Plan {
    let kind = parse::<PlanKind>(&plan.kind).unwrap_or_default();
    let interval = (plan.interval.as_deref()).and_then(parse::<BillingInterval>);
    plan!(Plan {
        kind: kind.into(),
        price: Some(Money {
            amount_minor: plan.price_amount_minor,
            currency: plan.currency,
        }),
        interval: interval.unwrap_or_default().into(),
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
    } from plan)
}

/// `GET /v1/plans/public` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PublicPlans {
    plans: Vec<PlanJson>,
    provider: String,
}

#[utoipa::path(get, path = "/v1/plans/public", tag = "billing", operation_id = "list_public_plans",
    responses((status = 200, description = "The public plans, cacheable", body = PublicPlans,
        headers(("Cache-Control" = String, description = "public, max-age=N")))))]
pub(crate) async fn public_plans(c: Caller) -> Result<impl IntoResponse, Problem> {
    let request = ListPublicPlansRequest { caller: c.meta() };
    let response = answer(c.billing().list_public_plans(request)).await?;
    let max_age = response.cache_max_age_seconds;
    let body = PublicPlans {
        provider: word(response.provider()),
        plans: response.plans.into_iter().map(to_json).collect(),
    };
    let cache = HeaderValue::from_str(&format!("public, max-age={max_age}")).ok();
    Ok((
        cache.map(|value| [(header::CACHE_CONTROL, value)]),
        Json(body),
    ))
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

impl CatalogJson {
    fn new(version: i64, plans: Vec<pb::Plan>) -> Self {
        let plans = plans.into_iter().map(to_json).collect();
        Self { version, plans }
    }
}

one_rpc! {
    #[utoipa::path(get, path = "/v1/admin/plan-limits", tag = "billing", operation_id = "get_plan_catalog",
        security(("bearer" = [])),
        responses((status = 200, description = "Every plan with its limits (operators only)", body = CatalogJson)))]
    pub(crate) fn get_catalog(c: Caller<AuthUser>) -> CatalogJson =
        c.billing().get_plan_catalog(GetPlanCatalogRequest { caller: c.meta() }),
        |answer| CatalogJson::new(answer.version, answer.plans);
}

one_rpc! {
    /// Replaces the catalog in one transaction; `version` must be the one last read.
    #[utoipa::path(put, path = "/v1/admin/plan-limits", tag = "billing", operation_id = "put_plan_catalog",
        security(("bearer" = [])), request_body = CatalogJson,
        responses(
            (status = 200, description = "The new catalog (operators only)", body = CatalogJson),
            (status = 409, description = "The catalog changed since `version` was read"),
        ))]
    pub(crate) fn put_catalog(c: Caller<AuthUser>, Json(body): Json<CatalogJson>) -> CatalogJson =
        c.billing().put_plan_catalog(PutPlanCatalogRequest {
            caller: c.meta(),
            expected_version: body.version,
            plans: body.plans.into_iter().map(to_proto).collect(),
        }), |answer| CatalogJson::new(answer.version, answer.plans);
}
