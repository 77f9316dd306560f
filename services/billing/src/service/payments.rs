//! Checkout and portal sessions: owners and admins only (payment gate not enforced: paying is how a
//! workspace becomes usable), and return URLs that stay on the app.

use uuid::Uuid;

use super::{Billing, checkout::Session};
use crate::{error::BillingError, peers::Needs};

/// A return URL: empty means the configured default; otherwise it must be under the app's origin.
fn return_url(
    given: &str,
    app_url: &str,
    default_path: &str,
    field: &str,
) -> Result<String, BillingError> {
    let app = app_url.trim_end_matches('/');
    if given.is_empty() {
        return Ok(format!("{app}{default_path}"));
    }
    if given == app
        || given.starts_with(&format!("{app}/"))
        || given.starts_with(&format!("{app}?"))
    {
        Ok(given.to_owned())
    } else {
        Err(BillingError::invalid(
            field,
            format!("must start with {app}"),
        ))
    }
}

/// What a Checkout session is asked for.
pub(crate) struct CheckoutOrder<'a> {
    pub(crate) plan_id: &'a str,
    pub(crate) seats: u32,
    pub(crate) success_url: &'a str,
    pub(crate) cancel_url: &'a str,
}

impl Billing {
    /// A Checkout session for `order`, at least as many seats as the workspace has members.
    pub(crate) async fn checkout_session(
        &self,
        user: &str,
        tenant: Uuid,
        order: CheckoutOrder<'_>,
    ) -> Result<Session, BillingError> {
        let success = return_url(
            order.success_url,
            &self.app_url,
            "/billing/success?session_id={CHECKOUT_SESSION_ID}",
            "success_url",
        )?;
        let cancel = return_url(order.cancel_url, &self.app_url, "/billing", "cancel_url")?;
        let plan = self
            .entitlements
            .plan(order.plan_id, "plan_id", false)
            .await?;
        self.access
            .member(user, tenant, Needs::OwnerOrAdmin, false)
            .await?;
        // Seats are counted from memberships: buying fewer than the workspace already has would
        // leave members over the limit the moment the plan starts.
        let members = self.access.tenancy.members(tenant).await?;
        if i64::from(order.seats.max(1)) < members {
            return Err(BillingError::invalid(
                "seats",
                format!("must be at least {members}, the workspace's members"),
            ));
        }
        let session = self
            .checkout
            .checkout(tenant, &plan, order.seats, &success, &cancel)
            .await?;
        self.checkout.record_started(user, tenant, &plan).await?;
        Ok(session)
    }

    /// A customer-portal URL for the tenant's customer.
    pub(crate) async fn portal_session(
        &self,
        user: &str,
        tenant: Uuid,
        return_to: &str,
    ) -> Result<String, BillingError> {
        let back = return_url(return_to, &self.app_url, "/billing", "return_url")?;
        self.access
            .member(user, tenant, Needs::OwnerOrAdmin, false)
            .await?;
        self.checkout.portal(tenant, &back).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_urls_stay_on_the_app() {
        let app = "https://app.example.com";
        assert_eq!(
            return_url("", app, "/billing", "f").ok().as_deref(),
            Some("https://app.example.com/billing")
        );
        assert!(return_url("https://app.example.com/x?y=1", app, "/", "f").is_ok());
        for bad in [
            "https://app.example.com.evil.io/x",
            "https://evil.io/?https://app.example.com",
            "javascript:x",
        ] {
            assert!(
                matches!(
                    return_url(bad, app, "/", "f"),
                    Err(BillingError::InvalidArgument { .. })
                ),
                "{bad}"
            );
        }
    }
}
