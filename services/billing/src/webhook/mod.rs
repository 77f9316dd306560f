//! Stripe webhook ingest: verify, then one transaction per delivery that claims the event id, runs
//! the handler and stores the raw delivery with its outcome, so the acknowledgement waits for a
//! single durable commit. A duplicate changes nothing but its own log row. A failing handler rolls
//! back (the claim included) so Stripe's retry applies it later; the raw delivery and its failure are
//! then stored in a second, one-statement transaction — on that path only.

pub(crate) mod event;
pub(crate) mod handler;
pub(crate) mod rejections;
pub(crate) mod verify;

use std::collections::BTreeMap;

use sqlx::PgPool;

use crate::{
    error::BillingError,
    store::{self, inbox::NewDelivery},
    stripe::StripeApi,
};
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
        let record = NewDelivery {
            event_id: &event.id,
            event_type: &event.kind,
            headers: &delivery.headers,
            payload: &delivery.payload,
            connect: delivery.connect,
        };
        let applied = if handler::acts_on(&event.kind, delivery.connect) {
            self.apply_delivery(&event, &record).await
        } else {
            // Nothing to do but claim and log: one statement, no explicit transaction.
            store::inbox::claim_ignored(
                &self.pool,
                &record,
                event.created_at(),
                event.account.as_deref(),
            )
            .await
            .map(|claimed| {
                if claimed {
                    Outcome::Ignored
                } else {
                    Outcome::Duplicate
                }
            })
            .map_err(BillingError::from)
        };
        match applied {
            Ok(outcome) => {
                count_delivery(delivery.connect, &event.kind, outcome.as_str());
                Ok((event, outcome))
            }
            Err(error) => {
                count_delivery(delivery.connect, &event.kind, "failed");
                let summary = error.to_string();
                // The second transaction, on the failure path only: the delivery and why it failed.
                // Not tried when no connection could be had at all (it would wait out the pool's
                // timeout a second time); then, as when the log itself fails, Stripe's retry is the
                // record.
                if no_connection(&error) {
                    return Err(error);
                }
                if let Err(log_error) = store::inbox::record_delivery(
                    &self.pool,
                    &record,
                    "failed",
                    Some(&summary),
                    None,
                )
                .await
                {
                    tracing::warn!(stripe.event_id = %event.id, error = %log_error,
                        "a failed delivery could not be logged");
                }
                Err(error)
            }
        }
    }

    /// The claim, the handler and the delivery's log row, in one transaction.
    async fn apply_delivery(
        &self,
        event: &StripeEvent,
        record: &NewDelivery<'_>,
    ) -> Result<Outcome, BillingError> {
        let mut tx = self.pool.begin().await?;
        let claimed = claim(&mut tx, event).await?;
        let outcome = if claimed {
            handler::handle(&mut tx, self.stripe.as_ref(), event, record.connect).await?
        } else {
            Outcome::Duplicate
        };
        // The claim was written as `applied`; the log row's statement corrects it when it was not.
        let correct_claim = (claimed && outcome != Outcome::Applied).then_some(outcome.as_str());
        store::inbox::record_delivery(&mut *tx, record, outcome.as_str(), None, correct_claim)
            .await?;
        tx.commit().await?;
        Ok(outcome)
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
        let outcome = handler::handle(&mut tx, self.stripe.as_ref(), event, connect).await?;
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
