//! The signed-in billing routes: checkout, portal, card-less start, the subscription summary and usage.
//! The tenant is named by `tenant_id` (query for reads, body for writes); billing checks membership.

use onramp_proto::billing::v1::{
    self as pb, CreateCheckoutSessionRequest, CreatePortalSessionRequest,
    GetSubscriptionSummaryRequest, GetUsageRequest, LimitValue, StartPlanWithoutCardRequest,
    limit_value::Value as Limit,
};
use serde_json::{Value, json};

use crate::routes::prelude::*;

body! {
    #[serde(deny_unknown_fields)]
    CheckoutBody => CreateCheckoutSessionRequest {
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
}

answer! {
    /// A Stripe Checkout session to send the browser to (`expires_at` in RFC 3339 UTC).
    CheckoutAnswer from pb::CreateCheckoutSessionResponse {
        checkout_url: String,
        checkout_session_id: String,
        expires_at: Option<String> => time,
    }
}

one_rpc! {
    #[utoipa::path(post, path = "/v1/billing/checkout", tag = "billing", operation_id = "create_checkout_session",
        security(("bearer" = [])), request_body = CheckoutBody,
        responses(
            (status = 200, description = "Where to send the browser", body = CheckoutAnswer),
            (status = 404, description = "No such workspace or plan"),
            (status = 409, description = "The workspace already has this subscription"),
            (status = 502, description = "Stripe failed; nothing changed"),
        ))]
    pub(crate) fn checkout(c: Caller<AuthUser>, Json(body): Json<CheckoutBody>) -> CheckoutAnswer =
        c.billing().create_checkout_session(body.request(c.meta()));
}

body! {
    #[serde(deny_unknown_fields)]
    PortalBody => CreatePortalSessionRequest {
        #[serde(default)]
        #[schema(format = "uuid")]
        tenant_id: String,
        #[serde(default)]
        return_url: String,
    }
}

answer! {
    /// `POST /v1/billing/portal` answer.
    PortalAnswer from pb::CreatePortalSessionResponse {
        portal_url: String,
    }
}

one_rpc! {
    #[utoipa::path(post, path = "/v1/billing/portal", tag = "billing", operation_id = "create_portal_session",
        security(("bearer" = [])), request_body = PortalBody,
        responses(
            (status = 200, description = "Stripe's customer portal for the workspace", body = PortalAnswer),
            (status = 404, description = "No such workspace"),
            (status = 409, description = "The workspace has no billing account yet"),
            StripeFailed,
        ))]
    pub(crate) fn portal(c: Caller<AuthUser>, Json(body): Json<PortalBody>) -> PortalAnswer =
        c.billing().create_portal_session(body.request(c.meta()));
}

body! {
    #[serde(deny_unknown_fields)]
    StartBody => StartPlanWithoutCardRequest {
        #[serde(default)]
        #[schema(format = "uuid")]
        tenant_id: String,
        #[serde(default)]
        plan_id: String,
    }
}

answer! {
    /// The plan a subscription is on.
    PlanRef from pb::Plan {
        id: String,
        code: String,
        name: String,
    }
}

answer! {
    /// A workspace's subscription, trial state included (times are RFC 3339 UTC).
    SummaryJson from pb::SubscriptionSummary {
        tenant_id: String,
        /// `stripe` or `manual`.
        provider: String => word_of::<pb::BillingProvider>,
        plan: Option<PlanRef> => opt,
        status: String => word_of::<pb::SubscriptionStatus>,
        /// `pristine`, `warning`, `urgent`, `expired`, `paid`, `complimentary`, `past_due` or `canceled`.
        trial_state: String => word_of::<pb::TrialState>,
        trial_days_left: u32,
        trial_ends_at: Option<String> => time,
        current_period_end: Option<String> => time,
        cancel_at_period_end: bool,
        seats: u32,
        has_billing_account: bool,
    }
}

one_rpc! {
    /// Starts a free, trial or complimentary plan without a card.
    #[utoipa::path(post, path = "/v1/billing/start", tag = "billing", operation_id = "start_plan_without_card",
        security(("bearer" = [])), request_body = StartBody,
        responses(
            (status = 200, description = "The workspace's subscription", body = SummaryJson),
            (status = 404, description = "No such workspace or plan"),
            (status = 409, description = "The plan needs a card, or the workspace already has a plan"),
        ))]
    pub(crate) fn start(c: Caller<AuthUser>, Json(body): Json<StartBody>) -> Option<SummaryJson> =
        c.billing().start_plan_without_card(body.request(c.meta())), |a| opt(a.summary);
}

one_rpc! {
    #[utoipa::path(get, path = "/v1/billing/subscription", tag = "billing", operation_id = "get_subscription",
        security(("bearer" = [])), params(TenantParam),
        responses(
            (status = 200, description = "The workspace's subscription and trial state", body = SummaryJson),
            NotAMember,
        ))]
    pub(crate) fn subscription(c: Caller<AuthUser>, Query(query): Query<TenantQuery>)
        -> Option<SummaryJson> = c.billing().get_subscription_summary(
            for_tenant!(GetSubscriptionSummaryRequest, c, query),
        ), |a| opt(a.summary);
}

/// The plan's limit: a number, `true`/`false` for a feature, or `null` for unlimited.
fn limit_json(limit: Option<LimitValue>) -> Value {
    match limit.and_then(|limit| limit.value) {
        Some(Limit::Max(max)) => json!(max),
        Some(Limit::Unlimited(_)) | None => Value::Null,
        Some(Limit::Enabled(on)) => json!(on),
    }
}

answer! {
    /// `GET /v1/usage/{field}` answer.
    UsageJson from pb::GetUsageResponse {
        field: String,
        used: i64,
        /// The plan's limit: a number, `true`/`false` for a feature, or `null` for unlimited.
        #[schema(value_type = Value)]
        limit: Value => limit_json,
    }
}

one_rpc! {
    #[utoipa::path(get, path = "/v1/usage/{field}", tag = "billing", operation_id = "get_usage",
        security(("bearer" = [])),
        params(("field" = String, Path, description = "A limited field, e.g. `seats`"), TenantParam),
        responses(
            (status = 200, description = "How much of the plan's limit is used", body = UsageJson),
            PaymentPending,
            (status = 404, description = "No such workspace or field"),
        ))]
    pub(crate) fn usage(
        c: Caller<AuthUser>,
        Path(field): Path<String>,
        Query(query): Query<TenantQuery>,
    ) -> UsageJson = c.billing().get_usage(GetUsageRequest {
        caller: c.meta(),
        tenant_id: query.tenant_id,
        field,
    });
}
