//! Stripe webhook ingest: verify, then write the delivery — claim the event id, run the handler and
//! store the raw delivery with its outcome — in a transaction shared with the deliveries that arrive
//! at the same time ([`group_commit`]), so the acknowledgement waits for one durable commit. A
//! duplicate changes nothing but its own log row. A failing handler rolls back (the claim included)
//! so Stripe's retry applies it later; the raw delivery and its failure are then stored in a second,
//! one-statement transaction — on that path only ([`write`]).

#[cfg(test)]
mod claim_tests;
pub(crate) mod event;
pub(crate) mod group_commit;
pub(crate) mod handler;
pub(crate) mod rejections;
pub(crate) mod verify;
pub(crate) mod write;

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
    /// Where verified deliveries are written.
    pub(crate) group: group_commit::GroupCommit,
}

/// One delivery as the gateway received it.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) payload: Vec<u8>,
    pub(crate) signature: String,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) connect: bool,
}

/// The `endpoint` label of the webhook metrics.
fn endpoint(connect: bool) -> &'static str {
    if connect { "connect" } else { "platform" }
}

/// Counts one verified delivery. `event_type` is Stripe's type string: only deliveries whose
/// signature verified get here, so it is one of Stripe's (bounded) types, never an id.
fn count_delivery(connect: bool, event_type: &str, outcome: &'static str) {
    metrics::counter!("onramp_webhook_deliveries_total",
        "endpoint" => endpoint(connect), "event_type" => event_type.to_owned(), "outcome" => outcome)
    .increment(1);
}

/// Whether `error` is the pool failing to hand out any connection (timed out or closed).
fn no_connection(error: &BillingError) -> bool {
    let BillingError::Unexpected(error) = error else {
        return false;
    };
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<sqlx::Error>(),
            Some(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed)
        )
    })
}

impl Inbox {
    /// Ingests one delivery; `Ok` means the gateway may acknowledge it: the claim, the handler's
    /// effects and the raw delivery are committed.
    pub(crate) async fn ingest(
        &self,
        mut delivery: Delivery,
    ) -> Result<(StripeEvent, Outcome), BillingError> {
        let secrets = if delivery.connect {
            &self.connect_secrets
        } else {
            &self.secrets
        };
        if let Err(rejection) = verify::verify(&delivery.payload, &delivery.signature, secrets) {
            self.rejections.count(rejection.label());
            if let Some(reason) = rejection.metric_reason() {
                metrics::counter!("onramp_webhook_signature_rejections_total",
                    "endpoint" => endpoint(delivery.connect), "reason" => reason)
                .increment(1);
            }
            if rejection == verify::Rejection::NotConfigured {
                return Err(BillingError::PermissionDenied(
                    "no Stripe webhook secret is configured (manual provider)".to_owned(),
                ));
            }
            return Err(BillingError::SignatureInvalid(rejection.label()));
        }
        let event = match StripeEvent::parse(&delivery.payload) {
            Ok(event) => event,
            Err(message) => {
                count_delivery(delivery.connect, "unknown", "failed");
                return Err(BillingError::invalid("payload", message));
            }
        };
        delivery.headers.insert(
            "stripe-signature".to_owned(),
            std::mem::take(&mut delivery.signature),
        );
        let connect = delivery.connect;
        let kind = event.kind.clone();
        match self.group.write(event, delivery).await {
            Ok((event, outcome)) => {
                count_delivery(connect, &event.kind, outcome.as_str());
                Ok((event, outcome))
            }
            Err(error) => {
                count_delivery(connect, &kind, "failed");
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
        let outcome = self.apply(&event, connect).await?;
        Ok((event, outcome))
    }

    /// Claim (if not yet) and handle in one transaction; `connect`: it came to the Connect endpoint.
    async fn apply(&self, event: &StripeEvent, connect: bool) -> Result<Outcome, BillingError> {
        let mut tx = self.pool.begin().await?;
        claim(&mut tx, event).await?;
        let outcome = handler::handle(&mut tx, self.stripe.as_ref(), event, connect, None).await?;
        store::inbox::set_event_outcome(&mut tx, &event.id, outcome.as_str()).await?;
        tx.commit().await?;
        Ok(outcome)
    }
}

/// Claims `event` (`insert … on conflict do nothing`); whether this call claimed it.
async fn claim(tx: &mut store::Tx<'_>, event: &StripeEvent) -> Result<bool, sqlx::Error> {
    store::inbox::claim(
        tx,
        &event.id,
        &event.kind,
        event.created_at(),
        event.account.as_deref(),
    )
    .await
}
