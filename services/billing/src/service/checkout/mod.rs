//! Checkout and the customer portal (stripe provider): one Stripe customer per tenant, ever, and a
//! Checkout session per purchase. Membership and URL checks happen at the gRPC edge before this runs.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    domain::plan::{LimitValue, Plan, PlanKind},
    error::BillingError,
    store,
    stripe::{CheckoutSpec, StripeApi},
};

/// Checkout and portal sessions.
#[derive(Debug, Clone)]
pub(crate) struct Checkout {
    pub(crate) pool: PgPool,
    pub(crate) stripe: Option<StripeApi>,
}

/// A created Checkout session.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) expires_at: Option<DateTime<Utc>>,
}

fn stripe_down(error: anyhow::Error) -> BillingError {
    BillingError::StripeUnavailable(error)
}

impl Checkout {
    fn stripe(&self) -> Result<&StripeApi, BillingError> {
        self.stripe.as_ref().ok_or_else(|| {
            BillingError::PermissionDenied(
                "payments need the stripe provider (this deployment runs manual)".to_owned(),
            )
        })
    }

    /// The tenant's customer, created at Stripe the first time.
    async fn customer(&self, stripe: &StripeApi, tenant_id: Uuid) -> Result<String, BillingError> {
        if let Some(customer) = store::subscriptions::customer_of(&self.pool, tenant_id).await? {
            return Ok(customer);
        }
        let created = stripe
            .create_customer(&tenant_id.to_string())
            .await
            .map_err(stripe_down)?;
        let mut tx = self.pool.begin().await?;
        // A concurrent first checkout may have linked one meanwhile: the stored link wins.
        let linked = store::subscriptions::link_customer(&mut tx, tenant_id, &created.id).await?;
        tx.commit().await?;
        linked.ok_or_else(|| BillingError::Unexpected(anyhow::anyhow!("customer link vanished")))
    }

    /// Starts a Checkout session for `plan` with `seats` (0 means 1).
    pub(crate) async fn checkout(
        &self,
        tenant_id: Uuid,
        plan: &Plan,
        seats: u32,
        success_url: &str,
        cancel_url: &str,
    ) -> Result<Session, BillingError> {
        let stripe = self.stripe()?;
        let (Some(plan_id), Some(price_id), PlanKind::Paid, false) = (
            plan.id,
            plan.stripe_price_id.as_deref(),
            plan.kind,
            plan.archived,
        ) else {
            return Err(BillingError::PermissionDenied(
                "this plan cannot be bought".to_owned(),
            ));
        };
        let seats = seats.max(1);
        if let Some(LimitValue::Max(max)) = plan.limit("seats")
            && i64::from(seats) > max
        {
            return Err(BillingError::invalid(
                "seats",
                format!("must be 1–{max} on this plan"),
            ));
        }
        if let Some(current) = store::entitlements::get(&self.pool, tenant_id).await?
            && current.source.as_deref() == Some("stripe_subscription")
            && matches!(current.state.as_str(), "active" | "past_due")
        {
            return Err(BillingError::Conflict(
                "the tenant already has a paid subscription; change it in the billing portal"
                    .to_owned(),
            ));
        }
        let customer = self.customer(stripe, tenant_id).await?;
        let spec = CheckoutSpec {
            customer: &customer,
            tenant_id: &tenant_id.to_string(),
            plan_id: &plan_id.to_string(),
            price_id,
            seats: u64::from(seats),
            trial_days: (plan.trial_days > 0 && plan.trial_requires_card)
                .then_some(plan.trial_days),
            success_url,
            cancel_url,
        };
        let created = stripe
            .create_checkout(&spec, &Uuid::new_v4().to_string())
            .await
            .map_err(stripe_down)?;
        let url = created
            .url
            .ok_or_else(|| stripe_down(anyhow::anyhow!("Checkout session without a URL")))?;
        Ok(Session {
            id: created.id,
            url,
            expires_at: created
                .expires_at
                .and_then(|t| DateTime::from_timestamp(t, 0)),
        })
    }

    /// A customer-portal URL for the tenant's existing customer.
    pub(crate) async fn portal(
        &self,
        tenant_id: Uuid,
        return_url: &str,
    ) -> Result<String, BillingError> {
        let stripe = self.stripe()?;
        let customer = store::subscriptions::customer_of(&self.pool, tenant_id)
            .await?
            .ok_or(BillingError::NoBillingAccount)?;
        let created = stripe
            .create_portal(&customer, return_url, &Uuid::new_v4().to_string())
            .await
            .map_err(stripe_down)?;
        created
            .url
            .ok_or_else(|| stripe_down(anyhow::anyhow!("portal session without a URL")))
    }
}

#[cfg(test)]
mod tests;
