//! Tenant-scoped use cases: card-less starts, complimentary grants, the summary's facts, entitlement
//! checks and usage. Members' calls pass tenancy's gate first; grants are for operators.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Billing, summary::Facts};
use crate::{
    domain::plan::{LimitField, LimitValue},
    error::BillingError,
    peers::Needs,
    store::{self, entitlements::EntitlementRow},
};

/// Why an entitlement check says no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denial {
    /// Allowed.
    None,
    NoActivePlan,
    NotInPlan,
    LimitReached,
}

impl Billing {
    /// Starts `plan` without a card (trial or free) for an owner or admin; answers the entitlement
    /// and the summary's facts.
    pub(crate) async fn start_without_card(
        &self,
        user: &str,
        tenant: Uuid,
        plan: &str,
    ) -> Result<(EntitlementRow, Facts), BillingError> {
        self.access
            .member(user, tenant, Needs::OwnerOrAdmin, false)
            .await?;
        let row = self.entitlements.start(tenant, plan, user).await?;
        Ok((row, self.facts(tenant).await?))
    }

    /// An operator grants `plan` for free until `ends_at` (or for good).
    pub(crate) async fn grant_complimentary(
        &self,
        user: &str,
        tenant: Uuid,
        plan: &str,
        ends_at: Option<DateTime<Utc>>,
        reason: &str,
    ) -> Result<EntitlementRow, BillingError> {
        self.access.operator(user)?;
        if ends_at.is_some_and(|end| end <= Utc::now()) {
            return Err(BillingError::invalid("ends_at", "must be in the future"));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(BillingError::invalid("reason", "must be 1–500 characters"));
        }
        self.entitlements
            .grant(user, tenant, plan, ends_at, reason)
            .await
    }

    /// The facts of the tenant's summary, for any member.
    pub(crate) async fn summary_facts(
        &self,
        user: &str,
        tenant: Uuid,
    ) -> Result<Facts, BillingError> {
        self.access
            .member(user, tenant, Needs::AnyMember, false)
            .await?;
        self.facts(tenant).await
    }

    /// The summary's facts, without any membership check (callers check first).
    async fn facts(&self, tenant: Uuid) -> Result<Facts, BillingError> {
        Facts::load(self.pool(), tenant, self.provider).await
    }

    /// The tenant's entitlement row, if any.
    pub(crate) async fn entitlement(
        &self,
        tenant: Uuid,
    ) -> Result<Option<EntitlementRow>, BillingError> {
        Ok(store::entitlements::get(self.pool(), tenant).await?)
    }

    /// Whether the tenant's plan allows one more of `feature`; answers the plan's id too.
    pub(crate) async fn check_entitlement(
        &self,
        tenant: Uuid,
        feature: &LimitField,
    ) -> Result<(Denial, Option<Uuid>), BillingError> {
        let (limit, plan) = self.entitlements.limit(tenant, feature.as_str()).await?;
        let plan_id = plan.as_ref().and_then(|p| p.id);
        let denial = match (plan.is_some(), limit) {
            (false, _) => Denial::NoActivePlan,
            (true, LimitValue::Enabled(false) | LimitValue::Max(0)) => Denial::NotInPlan,
            (true, LimitValue::Max(max)) if self.used(tenant, feature).await? >= max => {
                Denial::LimitReached
            }
            (true, _) => Denial::None,
        };
        Ok((denial, plan_id))
    }

    /// A member's view of a numeric field: its limit and current use (payment gate enforced).
    pub(crate) async fn usage(
        &self,
        user: &str,
        tenant: Uuid,
        field: &LimitField,
    ) -> Result<(LimitValue, i64), BillingError> {
        let (limit, _) = self.entitlements.limit(tenant, field.as_str()).await?;
        if !limit.is_numeric() {
            return Err(BillingError::NotFound(format!(
                "numeric limit field {}",
                field.as_str()
            )));
        }
        self.access
            .member(user, tenant, Needs::AnyMember, true)
            .await?;
        Ok((limit, self.used(tenant, field).await?))
    }

    /// Current usage of a numeric field (`seats` from tenancy's member count).
    async fn used(&self, tenant: Uuid, field: &LimitField) -> Result<i64, BillingError> {
        if field.is_seats() {
            return self.access.tenancy.members(tenant).await;
        }
        Ok(store::usage::used(self.pool(), tenant, field.as_str()).await?)
    }
}
