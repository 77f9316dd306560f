//! Entitlements without Stripe (ensure at provisioning, card-less starts, complimentary grants), limits
//! and usage: the application logic between the gRPC edge and the store.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;
use tokio::sync::RwLock;
use uuid::Uuid;

use crate::{
    config::ProviderKind,
    domain::{
        plan::{LimitValue, Plan},
        start::{Source, Start, start_without_card},
        subscription::EntitlementState,
    },
    error::BillingError,
    store::{
        self,
        entitlements::{Change, EntitlementRow},
    },
};

/// The catalog as last loaded, with the version it was loaded at.
pub(crate) type CatalogCache = Arc<RwLock<Option<(i64, Arc<Vec<Plan>>)>>>;

/// The entitlement logic.
#[derive(Debug, Clone)]
pub(crate) struct Entitlements {
    pub(crate) pool: PgPool,
    pub(crate) provider: ProviderKind,
    pub(crate) default_plan: Option<String>,
    /// Limits are read on every CheckEntitlement/GetLimit; the catalog is reloaded only when its version
    /// moved (any replica's write bumps it), so a plan change is seen at once everywhere.
    pub(crate) cache: CatalogCache,
}

/// A plan named by id (UUID) or code.
pub(crate) fn find_plan<'a>(plans: &'a [Plan], reference: &str) -> Option<&'a Plan> {
    let id = Uuid::parse_str(reference).ok();
    plans
        .iter()
        .find(|plan| plan.code.as_str() == reference || (id.is_some() && plan.id == id))
}

impl Entitlements {
    async fn catalog(&self) -> Result<Arc<Vec<Plan>>, BillingError> {
        let version = store::catalog::version(&self.pool).await?;
        if let Some((cached, plans)) = self.cache.read().await.as_ref()
            && *cached == version
        {
            return Ok(plans.clone());
        }
        let mut conn = self.pool.acquire().await?;
        let (plans, version) = store::catalog::load(&mut conn).await?;
        let plans = Arc::new(plans);
        *self.cache.write().await = Some((version, plans.clone()));
        Ok(plans)
    }

    /// A plan by reference, or INVALID_ARGUMENT / NOT_FOUND on `field`.
    pub(crate) async fn plan(
        &self,
        reference: &str,
        field: &str,
        not_found_is_invalid: bool,
    ) -> Result<Plan, BillingError> {
        let plans = self.catalog().await?;
        match find_plan(&plans, reference) {
            Some(plan) => Ok(plan.clone()),
            None if not_found_is_invalid => Err(BillingError::invalid(field, "no such plan")),
            None => Err(BillingError::NotFound("plan".to_owned())),
        }
    }

    /// Tenancy's provisioning hook: idempotent on the tenant; starts a card-less plan at once.
    /// `owner` (the provisioning user's id) is who chose the plan.
    pub(crate) async fn ensure(
        &self,
        tenant_id: Uuid,
        plan_hint: &str,
        owner: &str,
    ) -> Result<(Option<EntitlementRow>, bool), BillingError> {
        let hint = match (plan_hint.is_empty(), &self.default_plan) {
            (false, _) => Some(plan_hint.to_owned()),
            (true, default) => default.clone(),
        };
        let plan = match &hint {
            Some(reference) => Some(self.plan(reference, "plan_id", true).await?),
            None => None,
        };
        if let Some(plan) = &plan
            && plan.archived
        {
            return Err(BillingError::invalid("plan_id", "the plan is archived"));
        }
        let mut tx = self.pool.begin().await?;
        if let Some(existing) = store::entitlements::get(&mut *tx, tenant_id).await? {
            tx.rollback().await?;
            let needs_payment = existing.state == EntitlementState::PendingPayment.as_str();
            return Ok((Some(existing), needs_payment));
        }
        let Some(plan) = plan else {
            tx.rollback().await?;
            return Ok((None, false));
        };
        crate::funnel::plan_chosen(&mut tx, owner, tenant_id, &plan).await?;
        let row = match start_without_card(&plan, self.provider) {
            Start::Active { source, trial_days } => {
                self.activate(
                    &mut tx,
                    tenant_id,
                    &plan,
                    source,
                    trial_days,
                    None,
                    "plan started at provisioning",
                )
                .await?
            }
            Start::NeedsPayment => {
                let change = change(
                    tenant_id,
                    EntitlementState::PendingPayment,
                    Source::StripeSubscription,
                    &plan,
                    None,
                    None,
                    "awaiting checkout",
                );
                store::entitlements::apply(&mut tx, &change).await?
            }
            Start::NotSelectable => {
                return Err(BillingError::invalid(
                    "plan_id",
                    "this plan is granted by operators only",
                ));
            }
        };
        tx.commit().await?;
        let needs_payment = row.state == EntitlementState::PendingPayment.as_str();
        Ok((Some(row), needs_payment))
    }

    /// Activates `plan` from `source` (a card-less trial is used up once per tenant and plan).
    #[allow(
        clippy::too_many_arguments,
        reason = "one call site per source; a struct would only rename them"
    )]
    async fn activate(
        &self,
        tx: &mut store::Tx<'_>,
        tenant_id: Uuid,
        plan: &Plan,
        source: Source,
        trial_days: Option<u32>,
        ends_at: Option<DateTime<Utc>>,
        reason: &str,
    ) -> Result<EntitlementRow, BillingError> {
        let plan_id = plan
            .id
            .ok_or_else(|| BillingError::Unexpected(anyhow::anyhow!("stored plan without id")))?;
        let trial_ends_at = trial_days.map(|days| Utc::now() + Duration::days(i64::from(days)));
        if trial_days.is_some() && !store::usage::use_trial(tx, tenant_id, plan_id).await? {
            return Err(BillingError::Conflict(
                "the tenant already used this plan's trial".to_owned(),
            ));
        }
        if trial_days.is_some() {
            crate::funnel::trial_started(tx, tenant_id, Some(plan_id), false).await?;
        }
        let change = change(
            tenant_id,
            EntitlementState::Active,
            source,
            plan,
            trial_ends_at,
            ends_at,
            reason,
        );
        Ok(store::entitlements::apply(tx, &change).await?)
    }

    /// Starts a plan that needs no card for a tenant whose membership the caller already checked
    /// (`user`, who chose it).
    pub(crate) async fn start(
        &self,
        tenant_id: Uuid,
        reference: &str,
        user: &str,
    ) -> Result<EntitlementRow, BillingError> {
        let plan = self.plan(reference, "plan_id", false).await?;
        if plan.archived {
            return Err(BillingError::NotFound("plan".to_owned()));
        }
        let mut tx = self.pool.begin().await?;
        let current = store::entitlements::get(&mut *tx, tenant_id).await?;
        if let Some(current) = &current {
            if current.plan_id == plan.id && current.state == EntitlementState::Active.as_str() {
                return Ok(current.clone());
            }
            if current.source.as_deref() == Some(Source::StripeSubscription.as_str())
                && matches!(current.state.as_str(), "active" | "past_due")
            {
                return Err(BillingError::Conflict(
                    "the tenant has a live paid subscription; change it in the billing portal"
                        .to_owned(),
                ));
            }
        }
        let row = match start_without_card(&plan, self.provider) {
            Start::Active { source, trial_days } => {
                crate::funnel::plan_chosen(&mut tx, user, tenant_id, &plan).await?;
                self.activate(
                    &mut tx,
                    tenant_id,
                    &plan,
                    source,
                    trial_days,
                    None,
                    "plan started without a card",
                )
                .await?
            }
            Start::NeedsPayment | Start::NotSelectable => {
                return Err(BillingError::PermissionDenied(
                    "this plan needs a card: use checkout".to_owned(),
                ));
            }
        };
        tx.commit().await?;
        Ok(row)
    }

    /// An operator's complimentary grant (audited).
    pub(crate) async fn grant(
        &self,
        actor: &str,
        tenant_id: Uuid,
        reference: &str,
        ends_at: Option<DateTime<Utc>>,
        reason: &str,
    ) -> Result<EntitlementRow, BillingError> {
        let plan = self.plan(reference, "plan_id", false).await?;
        let mut tx = self.pool.begin().await?;
        let row = self
            .activate(
                &mut tx,
                tenant_id,
                &plan,
                Source::Complimentary,
                None,
                ends_at,
                reason,
            )
            .await?;
        sqlx::query(
            "insert into audit_log (id, actor_user_id, action, subject, before, after)
             values ($1, $2, 'entitlement.grant_complimentary', $3, null, $4)",
        )
        .bind(Uuid::now_v7())
        .bind(actor)
        .bind(tenant_id.to_string())
        .bind(serde_json::json!({"plan": plan.code.as_str(), "ends_at": ends_at, "reason": reason}))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The tenant's limit for `field` and the plan it comes from. No usable entitlement: 0 / false.
    pub(crate) async fn limit(
        &self,
        tenant_id: Uuid,
        field: &str,
    ) -> Result<(LimitValue, Option<Plan>), BillingError> {
        let plans = self.catalog().await?;
        let numeric = plans
            .iter()
            .find_map(|plan| plan.limit(field))
            .map(LimitValue::is_numeric)
            .ok_or_else(|| BillingError::NotFound(format!("limit field {field}")))?;
        let none = if numeric {
            LimitValue::Max(0)
        } else {
            LimitValue::Enabled(false)
        };
        let entitlement = store::entitlements::get(&self.pool, tenant_id).await?;
        let plan = entitlement
            .filter(|row| matches!(row.state.as_str(), "active" | "past_due"))
            .and_then(|row| row.plan_id)
            .and_then(|id| plans.iter().find(|plan| plan.id == Some(id)).cloned());
        let value = plan
            .as_ref()
            .and_then(|plan| plan.limit(field))
            .unwrap_or(none);
        Ok((value, plan))
    }

    /// Records a usage change idempotently (see `RecordUsage`).
    pub(crate) async fn record_usage(
        &self,
        tenant_id: Uuid,
        field: &str,
        delta: i64,
        operation_id: &str,
        enforce_limit: bool,
    ) -> Result<(i64, LimitValue, bool), BillingError> {
        let (limit, _) = self.limit(tenant_id, field).await?;
        if !limit.is_numeric() {
            return Err(BillingError::NotFound(format!(
                "numeric limit field {field}"
            )));
        }
        let mut tx = self.pool.begin().await?;
        if let Some(first) =
            store::usage::claim(&mut tx, tenant_id, operation_id, field, delta).await?
        {
            tx.rollback().await?;
            if first.field != field || first.delta != delta {
                return Err(BillingError::invalid(
                    "operation_id",
                    "already used with another field or delta",
                ));
            }
            return Ok((first.used_after, limit, true));
        }
        let used = store::usage::lock_counter(&mut tx, tenant_id, field).await?;
        let next = used.saturating_add(delta).max(0);
        if let (true, true, LimitValue::Max(max)) = (enforce_limit, delta > 0, limit)
            && next > max
        {
            return Err(BillingError::LimitExceeded(format!(
                "{field} is limited to {max} on this plan"
            )));
        }
        store::usage::set(&mut tx, tenant_id, field, operation_id, next).await?;
        tx.commit().await?;
        Ok((next, limit, false))
    }
}

fn change<'a>(
    tenant_id: Uuid,
    state: EntitlementState,
    source: Source,
    plan: &Plan,
    trial_ends_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    reason: &'a str,
) -> Change<'a> {
    Change {
        tenant_id,
        state,
        source: source.as_str(),
        plan_id: plan.id,
        trial_ends_at,
        ends_at,
        occurred_at: Utc::now(),
        stripe_event_id: None,
        reason,
    }
}
