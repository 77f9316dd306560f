//! Writing verified deliveries: each one's claim, handler and raw log row, either alone (its own
//! transaction) or together with others in one transaction (see [`super::group_commit`]), on the
//! connection the caller holds.

use sqlx::{Connection as _, PgConnection, PgPool};
use uuid::Uuid;

use super::{
    Delivery, Outcome,
    event::StripeEvent,
    handler::{self, Locked},
    no_connection,
};
use crate::{
    error::BillingError,
    store::{
        self, Tx,
        inbox::{ClaimAs, NewDelivery},
    },
    stripe::StripeApi,
};

/// What writes deliveries: the pool (for connections, and for logging a failure apart from the
/// transaction that failed), and Stripe for the handler's re-read on a version tie.
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    pub(crate) pool: PgPool,
    pub(crate) stripe: Option<StripeApi>,
}

fn record<'a>(event: &'a StripeEvent, delivery: &'a Delivery) -> NewDelivery<'a> {
    NewDelivery {
        event_id: &event.id,
        event_type: &event.kind,
        headers: &delivery.headers,
        payload: &delivery.payload,
        connect: delivery.connect,
    }
}

impl Writer {
    /// One delivery on its own: a type billing acts on in one transaction (claim, handler, log row),
    /// any other in one autocommitted statement (claim and log row, no `BEGIN`/`COMMIT`). When it
    /// fails, everything is rolled back and the raw delivery is logged as `failed` with its error in
    /// a second, one-statement transaction — on that path only.
    pub(super) async fn alone(
        &self,
        conn: &mut PgConnection,
        event: &StripeEvent,
        delivery: &Delivery,
    ) -> Result<Outcome, BillingError> {
        let record = record(event, delivery);
        let written = if handler::acts_on(&event.kind, delivery.connect) {
            self.in_one_transaction(conn, event, &record).await
        } else {
            claim_ignored(&mut *conn, event, &record)
                .await
                .map_err(BillingError::from)
        };
        if let Err(error) = &written {
            // Not tried when no connection could be had at all (it would wait out the pool's timeout
            // a second time); then, as when the log itself fails, Stripe's retry is the record.
            if !no_connection(error) {
                self.log_failure(event, &record, error).await;
            }
        }
        written
    }

    async fn in_one_transaction(
        &self,
        conn: &mut PgConnection,
        event: &StripeEvent,
        record: &NewDelivery<'_>,
    ) -> Result<Outcome, BillingError> {
        let mut tx = conn.begin().await?;
        let outcome = write(&mut tx, self.stripe.as_ref(), event, record).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn log_failure(
        &self,
        event: &StripeEvent,
        record: &NewDelivery<'_>,
        error: &BillingError,
    ) {
        let summary = error.to_string();
        if let Err(log_error) = store::inbox::record_failure(&self.pool, record, &summary).await {
            tracing::warn!(stripe.event_id = %event.id, error = %log_error,
                "a failed delivery could not be logged");
        }
    }

    /// Several deliveries in one transaction, in order, with one commit. Any failure rolls back all
    /// of them (the caller then writes each [`alone`](Self::alone)); `Ok` only once committed.
    pub(super) async fn together<'a>(
        &self,
        conn: &mut PgConnection,
        deliveries: impl Iterator<Item = (&'a StripeEvent, &'a Delivery)>,
    ) -> Result<Vec<Outcome>, BillingError> {
        let mut tx = conn.begin().await?;
        let mut outcomes = Vec::with_capacity(deliveries.size_hint().0);
        for (event, delivery) in deliveries {
            let record = record(event, delivery);
            let outcome = if handler::acts_on(&event.kind, delivery.connect) {
                write(&mut tx, self.stripe.as_ref(), event, &record).await?
            } else {
                claim_ignored(&mut *tx, event, &record).await?
            };
            outcomes.push(outcome);
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}

/// A type billing does nothing with: claimed and logged in one statement.
async fn claim_ignored(
    executor: impl sqlx::PgExecutor<'_>,
    event: &StripeEvent,
    record: &NewDelivery<'_>,
) -> Result<Outcome, sqlx::Error> {
    let claim = store::inbox::claim_and_log(
        executor,
        Uuid::now_v7(),
        record,
        event.created_at(),
        event.account.as_deref(),
        ClaimAs::Ignored,
    )
    .await?;
    Ok(if claim.claimed {
        Outcome::Ignored
    } else {
        Outcome::Duplicate
    })
}

/// The claim, the handler and the delivery's log row, inside `tx`: the claim (as `stale` when the
/// version guard says so: nothing more to do), the log row, the subscription's lock and its row in
/// the first statement, the outcome corrected at the end only when the
/// handler did not apply the event.
async fn write(
    tx: &mut Tx<'_>,
    stripe: Option<&StripeApi>,
    event: &StripeEvent,
    record: &NewDelivery<'_>,
) -> Result<Outcome, BillingError> {
    let delivery_id = Uuid::now_v7();
    let lock = event.subscription_id();
    let claim = store::inbox::claim_and_log(
        &mut **tx,
        delivery_id,
        record,
        event.created_at(),
        event.account.as_deref(),
        ClaimAs::Applied {
            lock,
            guard: handler::guard(&event.kind),
        },
    )
    .await?;
    if !claim.claimed {
        return Ok(Outcome::Duplicate);
    }
    if claim.stale {
        return Ok(Outcome::Stale);
    }
    let held = lock.map(|id| Locked {
        id,
        row: claim.subscription,
    });
    let outcome = handler::handle(tx, stripe, event, record.connect, held).await?;
    if outcome != Outcome::Applied {
        store::inbox::correct_outcome(tx, &event.id, delivery_id, outcome.as_str()).await?;
    }
    Ok(outcome)
}
