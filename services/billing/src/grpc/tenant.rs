//! Tenant-scoped RPCs: entitlements, card-less starts, grants, the summary, limits and usage.

use chrono::{DateTime, Utc};
use onramp_proto::billing::v1::{
    CheckEntitlementRequest, CheckEntitlementResponse, EnsureEntitlementRequest,
    EnsureEntitlementResponse, EntitlementDenial, GetLimitRequest, GetLimitResponse,
    GetSubscriptionSummaryRequest, GetSubscriptionSummaryResponse, GetUsageRequest,
    GetUsageResponse, GrantComplimentaryRequest, GrantComplimentaryResponse, RecordUsageRequest,
    RecordUsageResponse, StartPlanWithoutCardRequest, StartPlanWithoutCardResponse,
};
use uuid::Uuid;

use super::{BillingApi, entitlement, plans::limit_value, summary, tenant_id};
use crate::{
    domain::plan::{LimitField, LimitValue},
    error::BillingError,
    peers::Needs,
    service::summary::Facts,
    store,
};

/// The signed-in caller's user id.
pub(super) fn user_of(
    caller: Option<&onramp_proto::common::v1::Caller>,
) -> Result<&str, BillingError> {
    match caller.map(|c| c.user_id.as_str()) {
        Some(user) if !user.is_empty() => Ok(user),
        _ => Err(BillingError::Unauthenticated),
    }
}

fn field(text: &str, name: &str) -> Result<LimitField, BillingError> {
    LimitField::parse(text).map_err(|message| BillingError::invalid(name, message))
}

fn plan_ref(text: &str) -> Result<&str, BillingError> {
    if text.is_empty() {
        Err(BillingError::invalid("plan_id", "required"))
    } else {
        Ok(text)
    }
}

fn time(at: Option<prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    at.and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
}

impl BillingApi {
    pub(super) async fn ensure(
        &self,
        request: EnsureEntitlementRequest,
    ) -> Result<EnsureEntitlementResponse, BillingError> {
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        let (row, payment_required) = self
            .entitlements
            .ensure(tenant, &request.plan_id, &request.owner_user_id)
            .await?;
        Ok(EnsureEntitlementResponse {
            entitlement: Some(entitlement(tenant, row)),
            payment_required,
        })
    }

    pub(super) async fn start_without_card(
        &self,
        request: StartPlanWithoutCardRequest,
    ) -> Result<StartPlanWithoutCardResponse, BillingError> {
        let user = user_of(request.caller.as_ref())?;
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        let plan = plan_ref(&request.plan_id)?;
        self.tenancy
            .check(user, tenant, Needs::OwnerOrAdmin, false)
            .await?;
        let row = self.entitlements.start(tenant, plan, user).await?;
        let summary = self.summary_of(tenant).await?;
        Ok(StartPlanWithoutCardResponse {
            summary: Some(summary),
            entitlement: Some(entitlement(tenant, Some(row))),
        })
    }

    pub(super) async fn grant(
        &self,
        request: GrantComplimentaryRequest,
    ) -> Result<GrantComplimentaryResponse, BillingError> {
        self.operator(request.caller.as_ref())?;
        let actor = user_of(request.caller.as_ref())?.to_owned();
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        let plan = plan_ref(&request.plan_id)?;
        let ends_at = time(request.ends_at);
        if ends_at.is_some_and(|end| end <= Utc::now()) {
            return Err(BillingError::invalid("ends_at", "must be in the future"));
        }
        let reason = request.reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(BillingError::invalid("reason", "must be 1–500 characters"));
        }
        let row = self
            .entitlements
            .grant(&actor, tenant, plan, ends_at, reason)
            .await?;
        Ok(GrantComplimentaryResponse {
            entitlement: Some(entitlement(tenant, Some(row))),
        })
    }

    /// The summary, without any membership check (callers check first).
    pub(super) async fn summary_of(
        &self,
        tenant: Uuid,
    ) -> Result<onramp_proto::billing::v1::SubscriptionSummary, BillingError> {
        let facts = Facts::load(&self.inbox.pool, tenant, self.provider).await?;
        Ok(summary::summary(&facts, Utc::now(), self.thresholds))
    }

    pub(super) async fn subscription_summary(
        &self,
        request: GetSubscriptionSummaryRequest,
    ) -> Result<GetSubscriptionSummaryResponse, BillingError> {
        let user = user_of(request.caller.as_ref())?;
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        self.tenancy
            .check(user, tenant, Needs::AnyMember, false)
            .await?;
        Ok(GetSubscriptionSummaryResponse {
            summary: Some(self.summary_of(tenant).await?),
        })
    }

    /// Current usage of a numeric field (`seats` from tenancy's member count).
    async fn used(&self, tenant: Uuid, field: &LimitField) -> Result<i64, BillingError> {
        if field.is_seats() {
            return self.tenancy.members(tenant).await;
        }
        Ok(store::usage::used(&self.inbox.pool, tenant, field.as_str()).await?)
    }

    pub(super) async fn check(
        &self,
        request: CheckEntitlementRequest,
    ) -> Result<CheckEntitlementResponse, BillingError> {
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        let feature = field(&request.feature, "feature")?;
        let (limit, plan) = self.entitlements.limit(tenant, feature.as_str()).await?;
        let plan_id = plan
            .as_ref()
            .and_then(|p| p.id)
            .map(|id| id.to_string())
            .unwrap_or_default();
        let denial = match (plan.is_some(), limit) {
            (false, _) => EntitlementDenial::NoActivePlan,
            (true, LimitValue::Enabled(false) | LimitValue::Max(0)) => EntitlementDenial::NotInPlan,
            (true, LimitValue::Max(max)) if self.used(tenant, &feature).await? >= max => {
                EntitlementDenial::LimitReached
            }
            (true, _) => EntitlementDenial::None,
        };
        Ok(CheckEntitlementResponse {
            allowed: denial == EntitlementDenial::None,
            denial: denial as i32,
            plan_id,
        })
    }

    pub(super) async fn limit(
        &self,
        request: GetLimitRequest,
    ) -> Result<GetLimitResponse, BillingError> {
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        let field = field(&request.field, "field")?;
        let (limit, plan) = self.entitlements.limit(tenant, field.as_str()).await?;
        Ok(GetLimitResponse {
            limit: Some(limit_value(limit)),
            plan_id: plan
                .and_then(|p| p.id)
                .map(|id| id.to_string())
                .unwrap_or_default(),
        })
    }

    pub(super) async fn usage_change(
        &self,
        request: RecordUsageRequest,
    ) -> Result<RecordUsageResponse, BillingError> {
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        let field = field(&request.field, "field")?;
        if field.is_seats() {
            return Err(BillingError::invalid(
                "field",
                "seats are counted from memberships",
            ));
        }
        if request.delta == 0 {
            return Err(BillingError::invalid("delta", "must not be 0"));
        }
        let operation = request.operation_id.as_str();
        if operation.is_empty()
            || operation.len() > 200
            || !operation.chars().all(|c| c.is_ascii_graphic())
        {
            return Err(BillingError::invalid(
                "operation_id",
                "1–200 printable ASCII characters",
            ));
        }
        let (used, limit, duplicate) = self
            .entitlements
            .record_usage(
                tenant,
                field.as_str(),
                request.delta,
                operation,
                request.enforce_limit,
            )
            .await?;
        Ok(RecordUsageResponse {
            used,
            limit: Some(limit_value(limit)),
            duplicate,
        })
    }

    pub(super) async fn usage(
        &self,
        request: GetUsageRequest,
    ) -> Result<GetUsageResponse, BillingError> {
        let user = user_of(request.caller.as_ref())?;
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        let field = field(&request.field, "field")?;
        let (limit, _) = self.entitlements.limit(tenant, field.as_str()).await?;
        if !limit.is_numeric() {
            return Err(BillingError::NotFound(format!(
                "numeric limit field {}",
                field.as_str()
            )));
        }
        self.tenancy
            .check(user, tenant, Needs::AnyMember, true)
            .await?;
        let used = self.used(tenant, &field).await?;
        Ok(GetUsageResponse {
            field: field.as_str().to_owned(),
            used,
            limit: Some(limit_value(limit)),
        })
    }
}
