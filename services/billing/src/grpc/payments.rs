//! Checkout and portal RPCs: requests parsed here; the checks and the sessions are
//! `crate::service::payments`.

use onramp_proto::billing::v1::{
    CreateCheckoutSessionRequest, CreateCheckoutSessionResponse, CreatePortalSessionRequest,
    CreatePortalSessionResponse,
};

use super::{BillingApi, tenant::user_of, tenant_id, timestamp};
use crate::{error::BillingError, service::payments::CheckoutOrder};

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
        let order = CheckoutOrder {
            plan_id: &request.plan_id,
            seats: request.seats,
            success_url: &request.success_url,
            cancel_url: &request.cancel_url,
        };
        let session = self.service.checkout_session(user, tenant, order).await?;
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
        Ok(CreatePortalSessionResponse {
            portal_url: self
                .service
                .portal_session(user, tenant, &request.return_url)
                .await?,
        })
    }
}
