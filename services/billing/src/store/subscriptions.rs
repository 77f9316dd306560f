//! The subscription mirror and the tenant's Stripe customer.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Tx;
use crate::domain::subscription::{SubscriptionStatus, governing};

/// One mirrored subscription; `last_event_created`/`last_event_id` are its version.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SubscriptionRow {
    pub(crate) stripe_subscription_id: String,
    pub(crate) tenant_id: Option<Uuid>,
    pub(crate) stripe_customer_id: Option<String>,
    pub(crate) status: String,
    pub(crate) stripe_price_id: Option<String>,
    pub(crate) plan_id: Option<Uuid>,
    pub(crate) seats: i32,
    pub(crate) current_period_end: Option<DateTime<Utc>>,
    pub(crate) trial_end: Option<DateTime<Utc>>,
    pub(crate) cancel_at_period_end: bool,
    pub(crate) last_event_created: DateTime<Utc>,
    pub(crate) last_event_id: String,
}

impl SubscriptionRow {
    /// The version of a row recorded from a Checkout session before any subscription event: older
    /// than every event, so the subscription's own events always replace it.
    pub(crate) const PROVISIONAL: DateTime<Utc> = DateTime::UNIX_EPOCH;

    /// Whether only a Checkout session has been seen for this subscription so far.
    pub(crate) fn is_provisional(&self) -> bool {
        self.last_event_created == Self::PROVISIONAL
    }
}

/// Serialises every change to one subscription (including its first insert) until the transaction ends.
pub(crate) async fn lock(tx: &mut Tx<'_>, stripe_subscription_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(stripe_subscription_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The mirrored subscription, if any (call [`lock`] first).
pub(crate) async fn get(
    tx: &mut Tx<'_>,
    stripe_subscription_id: &str,
) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    sqlx::query_as(
        "select stripe_subscription_id, tenant_id, stripe_customer_id, status, stripe_price_id, plan_id,
                seats, current_period_end, trial_end, cancel_at_period_end, last_event_created,
                last_event_id
         from subscriptions where stripe_subscription_id = $1",
    )
    .bind(stripe_subscription_id)
    .fetch_optional(&mut **tx)
    .await
}

/// Where [`put`] takes the row's plan from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PlanSource {
    /// The row's `plan_id` as it is.
    Row,
    /// `metadata.plan_id` when it names a known plan (metadata may carry a stale one), else the plan
    /// sold at the row's price, else the row's `plan_id`.
    Resolve { metadata_plan: Option<Uuid> },
}

/// Writes the mirror row (insert or replace), with its plan from `plan`, and — when it has a tenant —
/// takes the tenant's lock (`pg_advisory_xact_lock` on `tenant:<id>`, until the transaction ends), in
/// one statement. That lock serialises entitlement decisions for one tenant, so two events for two of
/// its subscriptions each see the other's committed state: the caller reads the tenant's
/// subscriptions in a later statement, under it. Returns the plan written.
pub(crate) async fn put(
    tx: &mut Tx<'_>,
    row: &SubscriptionRow,
    plan: PlanSource,
) -> Result<Option<Uuid>, sqlx::Error> {
    let (resolve, metadata_plan) = match plan {
        PlanSource::Row => (false, None),
        PlanSource::Resolve { metadata_plan } => (true, metadata_plan),
    };
    sqlx::query_scalar(
        "with written as (
             insert into subscriptions (stripe_subscription_id, tenant_id, stripe_customer_id, status,
                 stripe_price_id, plan_id, seats, current_period_end, trial_end, cancel_at_period_end,
                 last_event_created, last_event_id, updated_at)
             values ($1, $2, $3, $4, $5,
                 case when $13 then coalesce((select id from plans where id = $14),
                                             (select id from plans where stripe_price_id = $5), $6)
                      else $6 end,
                 $7, $8, $9, $10, $11, $12, now())
             on conflict (stripe_subscription_id) do update set
                 tenant_id = excluded.tenant_id, stripe_customer_id = excluded.stripe_customer_id,
                 status = excluded.status, stripe_price_id = excluded.stripe_price_id,
                 plan_id = excluded.plan_id, seats = excluded.seats,
                 current_period_end = excluded.current_period_end, trial_end = excluded.trial_end,
                 cancel_at_period_end = excluded.cancel_at_period_end,
                 last_event_created = excluded.last_event_created, last_event_id = excluded.last_event_id,
                 updated_at = now()
             returning plan_id)
         select written.plan_id from written
         left join lateral (
             select pg_advisory_xact_lock(hashtextextended('tenant:' || $2::text, 0))::text as locked
             where $2::uuid is not null) lock on true",
    )
    .bind(&row.stripe_subscription_id)
    .bind(row.tenant_id)
    .bind(&row.stripe_customer_id)
    .bind(&row.status)
    .bind(&row.stripe_price_id)
    .bind(row.plan_id)
    .bind(row.seats)
    .bind(row.current_period_end)
    .bind(row.trial_end)
    .bind(row.cancel_at_period_end)
    .bind(row.last_event_created)
    .bind(&row.last_event_id)
    .bind(resolve)
    .bind(metadata_plan)
    .fetch_one(&mut **tx)
    .await
}

/// The tenant a Stripe customer belongs to.
pub(crate) async fn tenant_for_customer(
    tx: &mut Tx<'_>,
    stripe_customer_id: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("select tenant_id from customers where stripe_customer_id = $1")
        .bind(stripe_customer_id)
        .fetch_optional(&mut **tx)
        .await
}

/// Links a tenant to its customer, never replacing an existing link (one customer per tenant, ever).
/// Returns the customer the tenant is linked to afterwards.
pub(crate) async fn link_customer(
    tx: &mut Tx<'_>,
    tenant_id: Uuid,
    stripe_customer_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query(
        "insert into customers (tenant_id, stripe_customer_id) values ($1, $2) on conflict do nothing",
    )
    .bind(tenant_id)
    .bind(stripe_customer_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query_scalar("select stripe_customer_id from customers where tenant_id = $1")
        .bind(tenant_id)
        .fetch_optional(&mut **tx)
        .await
}

/// Every mirrored subscription of the tenant.
pub(crate) async fn for_tenant(
    executor: impl sqlx::PgExecutor<'_>,
    tenant_id: Uuid,
) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
    sqlx::query_as(
        "select stripe_subscription_id, tenant_id, stripe_customer_id, status, stripe_price_id, plan_id,
                seats, current_period_end, trial_end, cancel_at_period_end, last_event_created,
                last_event_id
         from subscriptions where tenant_id = $1",
    )
    .bind(tenant_id)
    .fetch_all(executor)
    .await
}

/// The subscription that decides the tenant's entitlement (see [`governing`]).
pub(crate) async fn governing_for_tenant(
    executor: impl sqlx::PgExecutor<'_>,
    tenant_id: Uuid,
) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    Ok(governing(for_tenant(executor, tenant_id).await?, |row| {
        (
            SubscriptionStatus::parse(&row.status),
            row.last_event_created,
        )
    }))
}

/// The tenant's Stripe customer, if it has one.
pub(crate) async fn customer_of(
    executor: impl sqlx::PgExecutor<'_>,
    tenant_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select stripe_customer_id from customers where tenant_id = $1")
        .bind(tenant_id)
        .fetch_optional(executor)
        .await
}

/// Mirrored subscriptions that are not over (reconciliation looks for them at Stripe).
pub(crate) async fn live(
    executor: impl sqlx::PgExecutor<'_>,
) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
    sqlx::query_as(
        "select stripe_subscription_id, tenant_id, stripe_customer_id, status, stripe_price_id, plan_id,
                seats, current_period_end, trial_end, cancel_at_period_end, last_event_created,
                last_event_id
         from subscriptions where status not in ('canceled', 'incomplete_expired')",
    )
    .fetch_all(executor)
    .await
}
