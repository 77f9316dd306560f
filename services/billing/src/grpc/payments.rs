//! Checkout and portal RPCs: caller, membership (owner or admin, not payment-gated) and return URLs are
//! checked here; the rest is `crate::service::checkout`.

use onramp_proto::billing::v1::{
    CreateCheckoutSessionRequest, CreateCheckoutSessionResponse, CreatePortalSessionRequest,
    CreatePortalSessionResponse,
};

use super::{BillingApi, tenant::user_of, tenant_id, timestamp};
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

impl BillingApi {
    pub(super) async fn create_checkout(
        &self,
        request: CreateCheckoutSessionRequest,
    ) -> Result<CreateCheckoutSessionResponse, BillingError> {
        let user = user_of(request.caller.as_ref())?;
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        if request.plan_id.is_empty() {
            return Err(BillingError::invalid("plan_id", "required"));
        }
        let success = return_url(
            &request.success_url,
            &self.app_url,
            "/billing/success?session_id={CHECKOUT_SESSION_ID}",
            "success_url",
        )?;
        let cancel = return_url(&request.cancel_url, &self.app_url, "/billing", "cancel_url")?;
        let plan = self
            .entitlements
            .plan(&request.plan_id, "plan_id", false)
            .await?;
        self.tenancy
            .check(user, tenant, Needs::OwnerOrAdmin, false)
            .await?;
        // Seats are counted from memberships: buying fewer than the workspace already has would
        // leave members over the limit the moment the plan starts.
        let members = self.tenancy.members(tenant).await?;
        if i64::from(request.seats.max(1)) < members {
            return Err(BillingError::invalid(
                "seats",
                format!("must be at least {members}, the workspace's members"),
            ));
        }
        let session = self
            .checkout
            .checkout(tenant, &plan, request.seats, &success, &cancel)
            .await?;
        self.checkout.record_started(user, tenant, &plan).await?;
        Ok(CreateCheckoutSessionResponse {
            checkout_url: session.url,
            checkout_session_id: session.id,
            expires_at: session.expires_at.map(timestamp),
        })
    }

    pub(super) async fn create_portal(
        &self,
        request: CreatePortalSessionRequest,
    ) -> Result<CreatePortalSessionResponse, BillingError> {
        let user = user_of(request.caller.as_ref())?;
        let tenant = tenant_id(&request.tenant_id, "tenant_id")?;
        let back = return_url(&request.return_url, &self.app_url, "/billing", "return_url")?;
        self.tenancy
            .check(user, tenant, Needs::OwnerOrAdmin, false)
            .await?;
        Ok(CreatePortalSessionResponse {
            portal_url: self.checkout.portal(tenant, &back).await?,
        })
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
