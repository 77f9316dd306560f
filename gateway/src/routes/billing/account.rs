//! The signed-in billing routes: checkout, portal, card-less start, the subscription summary and usage.
//! The tenant is named by `tenant_id` (query for reads, body for writes); billing checks membership.

use onramp_proto::billing::v1::{
    CreateCheckoutSessionRequest, CreatePortalSessionRequest, GetSubscriptionSummaryRequest,
    GetUsageRequest, LimitValue, StartPlanWithoutCardRequest, SubscriptionSummary,
    limit_value::Value as Limit,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::{
    auth::AuthUser,
    problem::Problem,
    routes::{
        call::{Caller, rpc},
        extract::{Json, Path, Query, TenantQuery},
        json_time::rfc3339,
        words::word,
    },
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckoutBody {
    #[serde(default)]
    #[schema(format = "uuid")]
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

/// A Stripe Checkout session to send the browser to (`expires_at` in RFC 3339 UTC).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CheckoutAnswer {
    checkout_url: String,
    checkout_session_id: String,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
}

#[utoipa::path(post, path = "/v1/billing/checkout", tag = "billing", operation_id = "create_checkout_session",
    security(("bearer" = [])), request_body = CheckoutBody,
    responses(
        (status = 200, description = "Where to send the browser", body = CheckoutAnswer),
        (status = 404, description = "No such workspace or plan"),
        (status = 409, description = "The workspace already has this subscription"),
        (status = 502, description = "Stripe failed; nothing changed"),
    ))]
pub(crate) async fn checkout(
    c: Caller<AuthUser>,
    Json(body): Json<CheckoutBody>,
) -> Result<Json<CheckoutAnswer>, Problem> {
    let request = CreateCheckoutSessionRequest {
        caller: c.meta(),
        tenant_id: body.tenant_id,
        plan_id: body.plan_id,
        seats: body.seats,
        success_url: body.success_url,
        cancel_url: body.cancel_url,
    };
    rpc(c.billing().create_checkout_session(request), |answer| {
        CheckoutAnswer {
            checkout_url: answer.checkout_url,
            checkout_session_id: answer.checkout_session_id,
            expires_at: rfc3339(answer.expires_at),
        }
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PortalBody {
    #[serde(default)]
    #[schema(format = "uuid")]
    tenant_id: String,
    #[serde(default)]
    return_url: String,
}

/// `POST /v1/billing/portal` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PortalAnswer {
    portal_url: String,
}

#[utoipa::path(post, path = "/v1/billing/portal", tag = "billing", operation_id = "create_portal_session",
    security(("bearer" = [])), request_body = PortalBody,
    responses(
        (status = 200, description = "Stripe's customer portal for the workspace", body = PortalAnswer),
        (status = 404, description = "No such workspace"),
        (status = 409, description = "The workspace has no billing account yet"),
        (status = 502, description = "Stripe failed"),
    ))]
pub(crate) async fn portal(
    c: Caller<AuthUser>,
    Json(body): Json<PortalBody>,
) -> Result<Json<PortalAnswer>, Problem> {
    let request = CreatePortalSessionRequest {
        caller: c.meta(),
        tenant_id: body.tenant_id,
        return_url: body.return_url,
    };
    rpc(c.billing().create_portal_session(request), |answer| {
        PortalAnswer {
            portal_url: answer.portal_url,
        }
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartBody {
    #[serde(default)]
    #[schema(format = "uuid")]
    tenant_id: String,
    #[serde(default)]
    plan_id: String,
}

/// The plan a subscription is on.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlanRef {
    id: String,
    code: String,
    name: String,
}

/// A workspace's subscription, trial state included (times are RFC 3339 UTC).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SummaryJson {
    tenant_id: String,
    /// `stripe` or `manual`.
    provider: String,
    plan: Option<PlanRef>,
    status: String,
    /// `pristine`, `warning`, `urgent`, `expired`, `paid`, `complimentary`, `past_due` or `canceled`.
    trial_state: String,
    trial_days_left: u32,
    #[schema(format = DateTime)]
    trial_ends_at: Option<String>,
    #[schema(format = DateTime)]
    current_period_end: Option<String>,
    cancel_at_period_end: bool,
    seats: u32,
    has_billing_account: bool,
}

fn summary_json(summary: SubscriptionSummary) -> SummaryJson {
    SummaryJson {
        provider: word(summary.provider()),
        status: word(summary.status()),
        trial_state: word(summary.trial_state()),
        plan: summary.plan.map(|plan| PlanRef {
            id: plan.id,
            code: plan.code,
            name: plan.name,
        }),
        tenant_id: summary.tenant_id,
        trial_days_left: summary.trial_days_left,
        trial_ends_at: rfc3339(summary.trial_ends_at),
        current_period_end: rfc3339(summary.current_period_end),
        cancel_at_period_end: summary.cancel_at_period_end,
        seats: summary.seats,
        has_billing_account: summary.has_billing_account,
    }
}

/// Starts a free, trial or complimentary plan without a card.
#[utoipa::path(post, path = "/v1/billing/start", tag = "billing", operation_id = "start_plan_without_card",
    security(("bearer" = [])), request_body = StartBody,
    responses(
        (status = 200, description = "The workspace's subscription", body = SummaryJson),
        (status = 404, description = "No such workspace or plan"),
        (status = 409, description = "The plan needs a card, or the workspace already has a plan"),
    ))]
pub(crate) async fn start(
    c: Caller<AuthUser>,
    Json(body): Json<StartBody>,
) -> Result<Json<Option<SummaryJson>>, Problem> {
    let request = StartPlanWithoutCardRequest {
        caller: c.meta(),
        tenant_id: body.tenant_id,
        plan_id: body.plan_id,
    };
    rpc(c.billing().start_plan_without_card(request), |answer| {
        answer.summary.map(summary_json)
    })
    .await
}

#[utoipa::path(get, path = "/v1/billing/subscription", tag = "billing", operation_id = "get_subscription",
    security(("bearer" = [])), params(("tenant_id" = String, Query, description = "The tenant's id")),
    responses(
        (status = 200, description = "The workspace's subscription and trial state", body = SummaryJson),
        (status = 404, description = "No such workspace, or the caller is not a member"),
    ))]
pub(crate) async fn subscription(
    c: Caller<AuthUser>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<Option<SummaryJson>>, Problem> {
    let request = GetSubscriptionSummaryRequest {
        caller: c.meta(),
        tenant_id: query.tenant_id,
    };
    rpc(c.billing().get_subscription_summary(request), |answer| {
        answer.summary.map(summary_json)
    })
    .await
}

fn limit_json(limit: Option<LimitValue>) -> Value {
    match limit.and_then(|limit| limit.value) {
        Some(Limit::Max(max)) => json!(max),
        // `null` means unlimited.
        Some(Limit::Unlimited(_)) | None => Value::Null,
        Some(Limit::Enabled(on)) => json!(on),
    }
}

/// `GET /v1/usage/{field}` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UsageJson {
    field: String,
    used: i64,
    /// The plan's limit: a number, `true`/`false` for a feature, or `null` for unlimited.
    #[schema(value_type = Value)]
    limit: Value,
}

#[utoipa::path(get, path = "/v1/usage/{field}", tag = "billing", operation_id = "get_usage",
    security(("bearer" = [])),
    params(("field" = String, Path, description = "A limited field, e.g. `seats`"), ("tenant_id" = String, Query, description = "The tenant's id")),
    responses(
        (status = 200, description = "How much of the plan's limit is used", body = UsageJson),
        (status = 402, description = "The workspace waits for its payment; retry after `Retry-After`"),
        (status = 404, description = "No such workspace or field"),
    ))]
pub(crate) async fn usage(
    c: Caller<AuthUser>,
    Path(field): Path<String>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<UsageJson>, Problem> {
    let request = GetUsageRequest {
        caller: c.meta(),
        tenant_id: query.tenant_id,
        field,
    };
    rpc(c.billing().get_usage(request), |answer| UsageJson {
        field: answer.field,
        used: answer.used,
        limit: limit_json(answer.limit),
    })
    .await
}
