//! Tenant-scoped RPCs: entitlements, card-less starts, grants, the summary, limits and usage. Requests
//! are parsed here; membership and operator checks are `crate::service::tenant`'s.

use super::{BillingApi, entitlement, plans::limit_value, summary, tenant_id};
use crate::{
    domain::plan::LimitField,
    error::BillingError,
    service::{summary::Facts, tenant::Denial},
};
use chrono::{DateTime, Utc};
use onramp_kit::grpc::convert::datetime;
use onramp_proto::billing::v1::{
    CheckEntitlementRequest, CheckEntitlementResponse, EnsureEntitlementRequest,
    EnsureEntitlementResponse, EntitlementDenial, GetEntitlementRequest, GetEntitlementResponse,
    GetLimitRequest, GetLimitResponse, GetSubscriptionSummaryRequest,
    GetSubscriptionSummaryResponse, GetUsageRequest, GetUsageResponse, GrantComplimentaryRequest,
    GrantComplimentaryResponse, RecordUsageRequest, RecordUsageResponse,
    StartPlanWithoutCardRequest, StartPlanWithoutCardResponse,
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

/// An optional time: absent is `None`, a malformed one is refused naming `name`.
fn time(
    at: Option<&prost_types::Timestamp>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, BillingError> {
    at.map(|at| datetime(at).ok_or_else(|| BillingError::invalid(name, "not a valid timestamp")))
        .transpose()
}

impl BillingApi {
    pub(super) async fn entitlement_of(
        &self,
        request: GetEntitlementRequest,
    ) -> Result<GetEntitlementResponse, BillingError> {
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        let row = self.service.entitlement(tenant).await?;
        Ok(GetEntitlementResponse {
            entitlement: Some(entitlement(tenant, row)),
        })
    }

    pub(super) async fn ensure(
        &self,
        request: EnsureEntitlementRequest,
    ) -> Result<EnsureEntitlementResponse, BillingError> {
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        let (row, payment_required) = self
            .service
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
        let (row, facts) = self.service.start_without_card(user, tenant, plan).await?;
        Ok(StartPlanWithoutCardResponse {
            summary: Some(self.summary(&facts)),
            entitlement: Some(entitlement(tenant, Some(row))),
        })
    }

    pub(super) async fn grant(
        &self,
        request: GrantComplimentaryRequest,
    ) -> Result<GrantComplimentaryResponse, BillingError> {
        let user = user_of(request.caller.as_ref())?;
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        let plan = plan_ref(&request.plan_id)?;
        let row = self
            .service
            .grant_complimentary(
                user,
                tenant,
                plan,
                time(request.ends_at.as_ref(), "ends_at")?,
                &request.reason,
            )
            .await?;
        Ok(GrantComplimentaryResponse {
            entitlement: Some(entitlement(tenant, Some(row))),
        })
    }

    /// The summary message of `facts`, as of now.
    fn summary(&self, facts: &Facts) -> onramp_proto::billing::v1::SubscriptionSummary {
        summary::summary(facts, Utc::now(), self.service.thresholds)
    }

    pub(super) async fn subscription_summary(
        &self,
        request: GetSubscriptionSummaryRequest,
    ) -> Result<GetSubscriptionSummaryResponse, BillingError> {
        let user = user_of(request.caller.as_ref())?;
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        let facts = self.service.summary_facts(user, tenant).await?;
        Ok(GetSubscriptionSummaryResponse {
            summary: Some(self.summary(&facts)),
        })
    }

    pub(super) async fn check(
        &self,
        request: CheckEntitlementRequest,
    ) -> Result<CheckEntitlementResponse, BillingError> {
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        let feature = field(&request.feature, "feature")?;
        let (denial, plan_id) = self.service.check_entitlement(tenant, &feature).await?;
        let denial = match denial {
            Denial::None => EntitlementDenial::None,
            Denial::NoActivePlan => EntitlementDenial::NoActivePlan,
            Denial::NotInPlan => EntitlementDenial::NotInPlan,
            Denial::LimitReached => EntitlementDenial::LimitReached,
        };
        Ok(CheckEntitlementResponse {
            allowed: denial == EntitlementDenial::None,
            denial: denial as i32,
            plan_id: plan_id.map(|id| id.to_string()).unwrap_or_default(),
        })
    }

    pub(super) async fn limit(
        &self,
        request: GetLimitRequest,
    ) -> Result<GetLimitResponse, BillingError> {
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        let field = field(&request.field, "field")?;
        let (limit, plan) = self
            .service
            .entitlements
            .limit(tenant, field.as_str())
            .await?;
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
            .service
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
        let (limit, used) = self.service.usage(user, tenant, &field).await?;
        Ok(GetUsageResponse {
            field: field.as_str().to_owned(),
            used,
            limit: Some(limit_value(limit)),
        })
    }
}
