//! Billing events tenancy has seen, keyed by billing's event id (the idempotency of ApplyBillingEvent).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// Whether the event was seen before.
pub(crate) async fn seen(conn: &mut PgConnection, event_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists(select 1 from billing_events where event_id = $1)")
        .bind(event_id)
        .fetch_one(conn)
        .await
}

/// An event to record.
#[derive(Debug)]
pub(crate) struct NewEvent<'a> {
    pub(crate) event_id: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) transition: &'a str,
    pub(crate) billing_version: i64,
    pub(crate) outcome: &'a str,
    pub(crate) previous_state: &'a str,
    pub(crate) state: &'a str,
    pub(crate) stripe_event_id: &'a str,
    pub(crate) reason: &'a str,
    pub(crate) occurred_at: Option<DateTime<Utc>>,
}

pub(crate) async fn insert(
    conn: &mut PgConnection,
    event: &NewEvent<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into billing_events (event_id, tenant_id, transition, billing_version, outcome, \
         previous_state, state, stripe_event_id, reason, occurred_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(event.event_id)
    .bind(event.tenant_id)
    .bind(event.transition)
    .bind(event.billing_version)
    .bind(event.outcome)
    .bind(event.previous_state)
    .bind(event.state)
    .bind(event.stripe_event_id)
    .bind(event.reason)
    .bind(event.occurred_at)
    .execute(conn)
    .await?;
    Ok(())
}
