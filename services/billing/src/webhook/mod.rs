//! Stripe webhook ingest: verify, store the raw delivery, claim the event id and run the handler in
//! one transaction. A duplicate changes nothing; a failing handler rolls back (the claim included) so
//! Stripe's retry applies it later.

pub(crate) mod event;
pub(crate) mod handler;
pub(crate) mod rejections;
pub(crate) mod verify;

use std::collections::BTreeMap;

use sqlx::PgPool;

use crate::{error::BillingError, store, stripe::StripeApi};
use event::StripeEvent;
pub(crate) use handler::Outcome;

/// What ingest needs besides the delivery.
#[derive(Debug, Clone)]
pub(crate) struct Inbox {
    pub(crate) pool: PgPool,
    pub(crate) secrets: Vec<onramp_kit::config::SecretString>,
    pub(crate) connect_secrets: Vec<onramp_kit::config::SecretString>,
    pub(crate) stripe: Option<StripeApi>,
    /// Refused deliveries, counted in memory and flushed in the background.
    pub(crate) rejections: rejections::RejectionTally,
}

/// One delivery as the gateway received it.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) payload: Vec<u8>,
    pub(crate) signature: String,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) connect: bool,
}

impl Inbox {
    /// Ingests one delivery; `Ok` means the gateway may acknowledge it.
    pub(crate) async fn ingest(
        &self,
        delivery: Delivery,
    ) -> Result<(StripeEvent, Outcome), BillingError> {
        let secrets = if delivery.connect {
            &self.connect_secrets
        } else {
            &self.secrets
        };
        if let Err(rejection) = verify::verify(&delivery.payload, &delivery.signature, secrets) {
            self.rejections.count(rejection.label());
            if rejection == verify::Rejection::NotConfigured {
                return Err(BillingError::PermissionDenied(
                    "no Stripe webhook secret is configured (manual provider)".to_owned(),
                ));
            }
            return Err(BillingError::SignatureInvalid(rejection.label()));
        }
        let event = StripeEvent::parse(&delivery.payload)
            .map_err(|message| BillingError::invalid("payload", message))?;
        let mut headers = delivery.headers;
        headers.insert("stripe-signature".to_owned(), delivery.signature);
        let delivery_id = store::inbox::insert_delivery(
            &self.pool,
            &store::inbox::NewDelivery {
                event_id: &event.id,
                event_type: &event.kind,
                headers: &headers,
                payload: &delivery.payload,
                connect: delivery.connect,
            },
        )
        .await?;
        match self.apply(&event, delivery.connect, true).await {
            Ok(outcome) => {
                store::inbox::set_delivery_outcome(&self.pool, delivery_id, outcome.as_str(), None)
                    .await?;
                Ok((event, outcome))
            }
            Err(error) => {
                let summary = error.to_string();
                store::inbox::set_delivery_outcome(
                    &self.pool,
                    delivery_id,
                    "failed",
                    Some(&summary),
                )
                .await?;
                Err(error)
            }
        }
    }

    /// Runs a stored event through the handler again (no signature check: it was verified on receipt).
    pub(crate) async fn replay(
        &self,
        event_id: &str,
    ) -> Result<(StripeEvent, Outcome), BillingError> {
        let (payload, connect) = store::inbox::latest_payload(&self.pool, event_id)
            .await?
            .ok_or_else(|| BillingError::NotFound(format!("stored event {event_id}")))?;
        let event = StripeEvent::parse(&payload)
            .map_err(|message| BillingError::Unexpected(anyhow::anyhow!(message)))?;
        let outcome = self.apply(&event, connect, false).await?;
        Ok((event, outcome))
    }

    /// Claim (when `claim`) and handle in one transaction; `connect`: it came to the Connect endpoint.
    async fn apply(
        &self,
        event: &StripeEvent,
        connect: bool,
        claim: bool,
    ) -> Result<Outcome, BillingError> {
        let mut tx = self.pool.begin().await?;
        let claimed = store::inbox::claim(
            &mut tx,
            &event.id,
            &event.kind,
            event.created_at(),
            event.account.as_deref(),
        )
        .await?;
        if claim && !claimed {
            tx.rollback().await?;
            return Ok(Outcome::Duplicate);
        }
        let outcome = handler::handle(&mut tx, self.stripe.as_ref(), event, connect).await?;
        store::inbox::set_event_outcome(&mut tx, &event.id, outcome.as_str()).await?;
        tx.commit().await?;
        Ok(outcome)
    }
}
