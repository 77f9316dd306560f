//! The facts a subscription summary is computed from, read from the store (the summary itself is a
//! pure function of them, in `grpc::summary`).

use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    config::ProviderKind,
    domain::plan::Plan,
    error::BillingError,
    service::{catalog, entitle::find_plan},
    store::{self, entitlements::EntitlementRow, subscriptions::SubscriptionRow},
};

/// Everything a summary is computed from.
#[derive(Debug)]
pub(crate) struct Facts {
    pub(crate) tenant_id: Uuid,
    pub(crate) provider: ProviderKind,
    pub(crate) entitlement: Option<EntitlementRow>,
    pub(crate) subscription: Option<SubscriptionRow>,
    pub(crate) plan: Option<Plan>,
    pub(crate) has_customer: bool,
}

impl Facts {
    /// The tenant's entitlement, governing subscription, customer and plan, without any membership
    /// check (callers check first).
    pub(crate) async fn load(
        pool: &PgPool,
        tenant: Uuid,
        provider: ProviderKind,
    ) -> Result<Self, BillingError> {
        let entitlement = store::entitlements::get(pool, tenant).await?;
        let subscription = store::subscriptions::governing_for_tenant(pool, tenant).await?;
        let has_customer = store::subscriptions::customer_of(pool, tenant)
            .await?
            .is_some();
        let (plans, _) = catalog::load(pool).await?;
        let plan = entitlement
            .as_ref()
            .and_then(|e| e.plan_id)
            .and_then(|id| find_plan(&plans, &id.to_string()).cloned());
        Ok(Self {
            tenant_id: tenant,
            provider,
            entitlement,
            subscription,
            plan,
            has_customer,
        })
    }
}
