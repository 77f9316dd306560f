//! The transactional outbox: effects on other contexts, written with the change that caused them and
//! relayed by [`crate::relay`] until the receiver acknowledges them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::Tx;
use crate::domain::subscription::Transition;

/// Who an outbox row is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Topic {
    /// tenancy's ApplyBillingEvent.
    Tenancy,
    /// onboarding's ApplyConnectAccountUpdate.
    Onboarding,
}

impl Topic {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Tenancy => "tenancy.apply_billing_event",
            Self::Onboarding => "onboarding.apply_connect_account_update",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        [Self::Tenancy, Self::Onboarding]
            .into_iter()
            .find(|topic| topic.as_str() == text)
    }
}

/// A lifecycle change for tenancy (the outbox row id is the ApplyBillingEvent event id).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LifecycleEvent {
    pub(crate) tenant_id: Uuid,
    pub(crate) transition: Transition,
    pub(crate) billing_version: i64,
    pub(crate) occurred_at: DateTime<Utc>,
    pub(crate) plan_id: Option<Uuid>,
    pub(crate) stripe_event_id: Option<String>,
    pub(crate) reason: String,
}

/// A Connect account update for onboarding (keyed by the Stripe event id).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccountUpdate {
    pub(crate) stripe_event_id: String,
    pub(crate) event_created: DateTime<Utc>,
    pub(crate) stripe_account_id: String,
    pub(crate) details_submitted: bool,
    pub(crate) charges_enabled: bool,
    pub(crate) payouts_enabled: bool,
    pub(crate) requirements: crate::webhook::event::Requirements,
}

/// Writes an outbox row in the caller's transaction.
pub(crate) async fn insert(
    tx: &mut Tx<'_>,
    topic: Topic,
    tenant_id: Option<Uuid>,
    payload: &impl Serialize,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    let payload = serde_json::to_value(payload).map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query("insert into outbox (id, topic, tenant_id, payload) values ($1, $2, $3, $4)")
        .bind(id)
        .bind(topic.as_str())
        .bind(tenant_id)
        .bind(payload)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

/// A row the relay is working on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct OutboxRow {
    pub(crate) id: Uuid,
    pub(crate) topic: String,
    pub(crate) payload: serde_json::Value,
    pub(crate) attempts: i32,
}

/// Leases up to `limit` due rows for `lease` (so another replica's relay skips them meanwhile).
pub(crate) async fn lease_due(
    pool: &PgPool,
    limit: i64,
    lease: Duration,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    sqlx::query_as(
        "update outbox set next_attempt_at = now() + make_interval(secs => $2)
         where id in (select id from outbox
                      where delivered_at is null and parked_at is null and next_attempt_at <= now()
                      order by created_at limit $1 for update skip locked)
         returning id, topic, payload, attempts",
    )
    .bind(limit)
    .bind(lease.as_secs_f64())
    .fetch_all(pool)
    .await
}

/// The receiver acknowledged the row.
pub(crate) async fn delivered(pool: &PgPool, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("update outbox set delivered_at = now(), attempts = attempts + 1, last_error = null where id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The attempt failed for now: try again after `delay`.
pub(crate) async fn retry_later(
    pool: &PgPool,
    id: Uuid,
    delay: Duration,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update outbox set attempts = attempts + 1, last_error = $3,
             next_attempt_at = now() + make_interval(secs => $2)
         where id = $1",
    )
    .bind(id)
    .bind(delay.as_secs_f64())
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// The receiver refused the row for good: keep it for operators, stop retrying.
pub(crate) async fn park(pool: &PgPool, id: Uuid, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update outbox set parked_at = now(), attempts = attempts + 1, last_error = $2 where id = $1")
        .bind(id)
        .bind(error)
        .execute(pool)
        .await?;
    Ok(())
}

/// Rows still to deliver (neither delivered nor parked) and the age in seconds of the oldest, for
/// the outbox gauges: one scan of the `outbox_due` partial index.
pub(crate) async fn backlog(pool: &PgPool) -> Result<(i64, f64), sqlx::Error> {
    sqlx::query_as(
        "select count(*), coalesce(extract(epoch from now() - min(created_at)), 0)::float8
         from outbox where delivered_at is null and parked_at is null",
    )
    .fetch_one(pool)
    .await
}
