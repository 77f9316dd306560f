//! Stripe's deliveries as the gateway forwards them, and the operators' replay of a stored event.

use std::collections::BTreeMap;

use onramp_proto::billing::v1::{
    HandleStripeWebhookRequest, HandleStripeWebhookResponse, ReplayStripeEventRequest,
    ReplayStripeEventResponse,
};

use super::{BillingApi, outcome, stored_event, tenant::user_of};
use crate::{error::BillingError, webhook::Delivery};

/// Largest accepted webhook payload (Stripe's events are far smaller).
const MAX_PAYLOAD: usize = 1024 * 1024;

impl BillingApi {
    pub(super) async fn webhook(
        &self,
        request: HandleStripeWebhookRequest,
    ) -> Result<HandleStripeWebhookResponse, BillingError> {
        if request.payload.len() > MAX_PAYLOAD {
            return Err(BillingError::invalid("payload", "larger than 1 MiB"));
        }
        // Credentials never go into the stored delivery, whatever the edge forwarded.
        let headers: BTreeMap<String, String> = request
            .headers
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .filter(|(name, _)| name != "authorization" && name != "cookie")
            .collect();
        let delivery = Delivery {
            payload: request.payload,
            signature: request.stripe_signature,
            headers,
            connect: request.connect,
        };
        let (event, result) = self.service.inbox.ingest(delivery).await?;
        tracing::info!(stripe.event_id = %event.id, event_type = %event.kind, outcome = result.as_str(),
            "stripe webhook");
        Ok(HandleStripeWebhookResponse {
            event_id: event.id,
            event_type: event.kind,
            outcome: outcome(result) as i32,
        })
    }

    pub(super) async fn replay(
        &self,
        request: ReplayStripeEventRequest,
    ) -> Result<ReplayStripeEventResponse, BillingError> {
        let user = user_of(request.caller.as_ref())?;
        if !request.event_id.starts_with("evt_") {
            return Err(BillingError::invalid("event_id", "must start with evt_"));
        }
        let (row, result) = self
            .service
            .replay_stripe_event(user, &request.event_id)
            .await?;
        Ok(ReplayStripeEventResponse {
            event: Some(stored_event(row)),
            outcome: outcome(result) as i32,
        })
    }
}
