//! Entitlements: the tenant-level result of its subscription, versioned, with the outbox row that
//! tells tenancy about every state change written in the same transaction.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use sqlx::{FromRow as _, Row as _};

use super::{Tx, outbox, subscriptions::SubscriptionRow};
use crate::domain::subscription::EntitlementState;

/// The stored entitlement.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct EntitlementRow {
    pub(crate) tenant_id: Uuid,
    pub(crate) state: String,
    pub(crate) source: Option<String>,
    pub(crate) plan_id: Option<Uuid>,
    pub(crate) trial_ends_at: Option<DateTime<Utc>>,
    pub(crate) ends_at: Option<DateTime<Utc>>,
    pub(crate) version: i64,
    pub(crate) updated_at: DateTime<Utc>,
}

/// A change decided by a handler.
#[derive(Debug, Clone)]
pub(crate) struct Change<'a> {
    pub(crate) tenant_id: Uuid,
    pub(crate) state: EntitlementState,
    pub(crate) source: &'a str,
    pub(crate) plan_id: Option<Uuid>,
    pub(crate) trial_ends_at: Option<DateTime<Utc>>,
    pub(crate) ends_at: Option<DateTime<Utc>>,
    /// When it was decided (the Stripe event's `created`).
    pub(crate) occurred_at: DateTime<Utc>,
    pub(crate) stripe_event_id: Option<&'a str>,
    pub(crate) reason: &'a str,
}

/// Reads a tenant's entitlement.
pub(crate) async fn get(
    executor: impl sqlx::PgExecutor<'_>,
    tenant_id: Uuid,
) -> Result<Option<EntitlementRow>, sqlx::Error> {
    sqlx::query_as(
        "select tenant_id, state, source, plan_id, trial_ends_at, ends_at, version, updated_at
         from entitlements where tenant_id = $1",
    )
    .bind(tenant_id)
    .fetch_optional(executor)
    .await
}

/// Applies a change: bumps the version when anything changed and, when the state changed, writes the
/// lifecycle event for tenancy to the outbox in the same statement. Returns the row after the change.
pub(crate) async fn apply(
    tx: &mut Tx<'_>,
    change: &Change<'_>,
) -> Result<EntitlementRow, sqlx::Error> {
    let current: Option<EntitlementRow> = sqlx::query_as(
        "select tenant_id, state, source, plan_id, trial_ends_at, ends_at, version, updated_at
         from entitlements where tenant_id = $1 for update",
    )
    .bind(change.tenant_id)
    .fetch_optional(&mut **tx)
    .await?;
    apply_over(tx, change, current).await
}

/// A tenant's entitlement, locked for update, and every mirrored subscription of the tenant, read in
/// one statement (a webhook's entitlement decision needs both; one round trip instead of two).
pub(crate) async fn lock_with_subscriptions(
    tx: &mut Tx<'_>,
    tenant_id: Uuid,
) -> Result<(Option<EntitlementRow>, Vec<SubscriptionRow>), sqlx::Error> {
    // One row per subscription (or one row without a subscription), the entitlement's columns on
    // each; the anchor row makes the result non-empty when the tenant has neither.
    let rows = sqlx::query(
        "select e.tenant_id as e_tenant_id, e.state as e_state, e.source as e_source,
                e.plan_id as e_plan_id, e.trial_ends_at as e_trial_ends_at, e.ends_at as e_ends_at,
                e.version as e_version, e.updated_at as e_updated_at,
                s.stripe_subscription_id, s.tenant_id, s.stripe_customer_id, s.status,
                s.stripe_price_id, s.plan_id, s.seats, s.current_period_end, s.trial_end,
                s.cancel_at_period_end, s.last_event_created, s.last_event_id
         from (select 1) anchor
         left join (select * from entitlements where tenant_id = $1 for update) e on true
         left join subscriptions s on s.tenant_id = $1",
    )
    .bind(tenant_id)
    .fetch_all(&mut **tx)
    .await?;
    let entitlement = match rows.first() {
        Some(row) => match row.try_get::<Option<Uuid>, _>("e_tenant_id")? {
            Some(tenant_id) => Some(EntitlementRow {
                tenant_id,
                state: row.try_get("e_state")?,
                source: row.try_get("e_source")?,
                plan_id: row.try_get("e_plan_id")?,
                trial_ends_at: row.try_get("e_trial_ends_at")?,
                ends_at: row.try_get("e_ends_at")?,
                version: row.try_get("e_version")?,
                updated_at: row.try_get("e_updated_at")?,
            }),
            None => None,
        },
        None => None,
    };
    let mut subscriptions = Vec::with_capacity(rows.len());
    for row in &rows {
        if row
            .try_get::<Option<&str>, _>("stripe_subscription_id")?
            .is_some()
        {
            subscriptions.push(SubscriptionRow::from_row(row)?);
        }
    }
    Ok((entitlement, subscriptions))
}

/// [`apply`] over `current`, the entitlement as read under its row lock in this transaction.
pub(crate) async fn apply_over(
    tx: &mut Tx<'_>,
    change: &Change<'_>,
    current: Option<EntitlementRow>,
) -> Result<EntitlementRow, sqlx::Error> {
    let state_changed = current
        .as_ref()
        .is_none_or(|row| row.state != change.state.as_str());
    let unchanged = current.as_ref().is_some_and(|row| {
        !state_changed
            && row.source.as_deref() == Some(change.source)
            && row.plan_id == change.plan_id
            && row.trial_ends_at == change.trial_ends_at
            && row.ends_at == change.ends_at
    });
    if let (true, Some(row)) = (unchanged, current.clone()) {
        return Ok(row);
    }
    let version = current.map_or(1, |row| row.version + 1);
    // The lifecycle event for tenancy, when the state changed, is written by the same statement.
    let lifecycle = state_changed
        .then(|| change.state.transition())
        .flatten()
        .map(|transition| outbox::LifecycleEvent {
            tenant_id: change.tenant_id,
            transition,
            billing_version: version,
            occurred_at: change.occurred_at,
            plan_id: change.plan_id,
            stripe_event_id: change.stripe_event_id.map(str::to_owned),
            reason: change.reason.to_owned(),
        })
        .map(|event| serde_json::to_value(event).map_err(|e| sqlx::Error::Encode(e.into())))
        .transpose()?;
    sqlx::query_as(
        "with written as (
             insert into entitlements (tenant_id, state, source, plan_id, trial_ends_at, ends_at,
                 version, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, now())
             on conflict (tenant_id) do update set state = excluded.state, source = excluded.source,
                 plan_id = excluded.plan_id, trial_ends_at = excluded.trial_ends_at,
                 ends_at = excluded.ends_at, version = excluded.version, updated_at = now()
             returning tenant_id, state, source, plan_id, trial_ends_at, ends_at, version, updated_at),
         relayed as (
             insert into outbox (id, topic, tenant_id, payload)
             select $8, $9, $1, $10 where $10::jsonb is not null)
         select * from written",
    )
    .bind(change.tenant_id)
    .bind(change.state.as_str())
    .bind(change.source)
    .bind(change.plan_id)
    .bind(change.trial_ends_at)
    .bind(change.ends_at)
    .bind(version)
    .bind(Uuid::now_v7())
    .bind(outbox::Topic::Tenancy.as_str())
    .bind(lifecycle)
    .fetch_one(&mut **tx)
    .await
}

/// Tenants whose entitlement has not changed since `before` (`only`: just that one), oldest first, at
/// most `limit` (reconciliation's orphan candidates).
pub(crate) async fn unchanged_since(
    pool: &sqlx::PgPool,
    before: DateTime<Utc>,
    only: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "select tenant_id from entitlements
         where updated_at < $1 and ($2::uuid is null or tenant_id = $2)
         order by updated_at limit $3",
    )
    .bind(before)
    .bind(only)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Ends what ran out by itself: card-less trials past their end become `suspended` (recoverable by
/// paying), complimentary and free grants past their end become `canceled`; each tells tenancy through
/// the outbox. Returns how many entitlements changed.
pub(crate) async fn expire_due(pool: &sqlx::PgPool) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let due: Vec<EntitlementRow> = sqlx::query_as(
        "select tenant_id, state, source, plan_id, trial_ends_at, ends_at, version, updated_at
         from entitlements
         where state = 'active'
           and ((source = 'trial_without_card' and trial_ends_at <= now())
                or (source in ('complimentary', 'free_plan') and ends_at <= now()))
         order by tenant_id limit 100 for update skip locked",
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in &due {
        let trial = row.source.as_deref() == Some("trial_without_card");
        let change = Change {
            tenant_id: row.tenant_id,
            state: if trial {
                EntitlementState::Suspended
            } else {
                EntitlementState::Canceled
            },
            source: row.source.as_deref().unwrap_or_default(),
            plan_id: row.plan_id,
            trial_ends_at: row.trial_ends_at,
            ends_at: row.ends_at,
            occurred_at: Utc::now(),
            stripe_event_id: None,
            reason: if trial {
                "trial ended"
            } else {
                "complimentary grant ended"
            },
        };
        apply(&mut tx, &change).await?;
    }
    tx.commit().await?;
    Ok(due.len())
}
