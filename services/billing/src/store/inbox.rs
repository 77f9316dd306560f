//! The webhook inbox: raw deliveries (kept whatever happened, each with its outcome), the per-event
//! claim, and the counter of rejected signatures.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{FromRow as _, PgPool, Row as _, types::Json};
use uuid::Uuid;

use super::{Tx, subscriptions::SubscriptionRow};

/// Adds `count` rejected deliveries for `reason` (a batch, from `webhook::rejections`); nothing
/// else of them is kept.
pub(crate) async fn add_rejections(
    pool: &PgPool,
    reason: &str,
    count: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into webhook_rejections (reason, count, last_at) values ($1, $2, now())
         on conflict (reason) do update set count = webhook_rejections.count + $2, last_at = now()",
    )
    .bind(reason)
    .bind(i64::try_from(count).unwrap_or(i64::MAX))
    .execute(pool)
    .await?;
    Ok(())
}

/// A delivery to store.
#[derive(Debug)]
pub(crate) struct NewDelivery<'a> {
    pub(crate) event_id: &'a str,
    pub(crate) event_type: &'a str,
    pub(crate) headers: &'a BTreeMap<String, String>,
    pub(crate) payload: &'a [u8],
    pub(crate) connect: bool,
}

/// Stores a failed delivery with its error, on its own after the failure rolled back its
/// transaction.
pub(crate) async fn record_failure(
    executor: impl sqlx::PgExecutor<'_>,
    delivery: &NewDelivery<'_>,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into stripe_deliveries (id, event_id, event_type, headers, payload, connect, outcome, error)
         values ($1, $2, $3, $4, $5, $6, 'failed', $7)",
    )
    .bind(Uuid::now_v7())
    .bind(delivery.event_id)
    .bind(delivery.event_type)
    .bind(Json(delivery.headers))
    .bind(delivery.payload)
    .bind(delivery.connect)
    .bind(error)
    .execute(executor)
    .await?;
    Ok(())
}

/// How [`claim_and_log`] claims an event.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ClaimAs<'a> {
    /// A type billing acts on, inside the handler's transaction: claimed as `applied` (corrected by
    /// [`correct_outcome`] when the handler decides otherwise) and, when it names one, under the
    /// subscription's lock ([`super::subscriptions::lock`]), with the subscription read under it —
    /// or claimed as `stale` at once when `guard` finds the event older than that row.
    Applied {
        lock: Option<&'a str>,
        guard: Option<Guard>,
    },
    /// A type billing does nothing with: claimed as `ignored` (autocommitted, or in a group's
    /// transaction).
    Ignored,
}

/// The version guard the claim applies to the subscription row it reads (one that only a Checkout
/// recorded, [`SubscriptionRow::is_provisional`], is never newer than an event). It is the handler's
/// own rule, decided in the claim so that a stale event costs one statement; when the claim does
/// not see the row (see [`Claim::subscription`]) the handler decides as before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guard {
    /// Stale when strictly older than the row (subscription events: the same second is settled by
    /// the handler, which asks Stripe).
    Older,
    /// Stale unless strictly newer than the row (invoices).
    NotNewer,
}

impl Guard {
    fn as_str(self) -> &'static str {
        match self {
            Self::Older => "older",
            Self::NotNewer => "not_newer",
        }
    }
}

/// What [`claim_and_log`] found.
#[derive(Debug)]
pub(crate) struct Claim {
    /// Whether this delivery claimed the event (else an earlier delivery holds the claim).
    pub(crate) claimed: bool,
    /// Whether it was claimed as `stale` by the [`Guard`] (the handler then has nothing to do).
    pub(crate) stale: bool,
    /// The subscription [`ClaimAs::Applied`] locked, read after its lock was taken: `Some` is its
    /// newest committed version (see [`claim_and_log`]); `None` says nothing — a row committed
    /// while the statement waited for the lock is not seen — so the caller reads it again.
    pub(crate) subscription: Option<SubscriptionRow>,
}

/// In one statement: takes the lock [`ClaimAs::Applied`] names and reads that subscription under
/// it, claims the event — as `stale` when its [`Guard`] says so — and stores the raw delivery under
/// `delivery_id` with the claim's outcome, or `duplicate` when an earlier delivery holds the claim
/// (a concurrent claimer is waited for, so exactly one claims). `received_at` is the statement's
/// clock, so the deliveries of one group transaction keep their order.
///
/// The read is the subscription's row locked `for no key update` after the advisory lock (the lock's
/// result is the read's one-time filter, so it is taken first: the same order as every other writer
/// of the row, which cannot deadlock). The statement's snapshot predates the lock, but a row lock
/// reads the newest committed version of a row it finds (Postgres re-reads an updated row under
/// `READ COMMITTED`); only a row inserted while the statement waited is missed, hence
/// [`Claim::subscription`]'s `None`.
pub(crate) async fn claim_and_log(
    executor: impl sqlx::PgExecutor<'_>,
    delivery_id: Uuid,
    delivery: &NewDelivery<'_>,
    created: DateTime<Utc>,
    account_id: Option<&str>,
    claim: ClaimAs<'_>,
) -> Result<Claim, sqlx::Error> {
    let (outcome, lock, guard) = match claim {
        ClaimAs::Applied { lock, guard } => ("applied", lock, guard),
        ClaimAs::Ignored => ("ignored", None, None),
    };
    let row = sqlx::query(
        "with locked as (
             select pg_advisory_xact_lock(hashtextextended($9, 0)) where $9::text is not null),
         subscription as (
             select stripe_subscription_id, tenant_id, stripe_customer_id, status, stripe_price_id,
                    plan_id, seats, current_period_end, trial_end, cancel_at_period_end,
                    last_event_created, last_event_id
             from subscriptions
             where stripe_subscription_id = $9 and exists (select 1 from locked)
             for no key update),
         verdict as (
             select case
                 when s.last_event_created = 'epoch'::timestamptz then $10
                 when $11 = 'older' and $7 < s.last_event_created then 'stale'
                 when $11 = 'not_newer' and $7 <= s.last_event_created then 'stale'
                 else $10 end as outcome
             from (select 1) anchor left join subscription s on true),
         claimed as (
             insert into stripe_events (event_id, event_type, created, account_id, outcome)
             select $2, $3, $7, $8, verdict.outcome from verdict
             on conflict (event_id) do nothing
             returning outcome),
         logged as (
             insert into stripe_deliveries
                 (id, event_id, event_type, headers, payload, connect, outcome, received_at)
             select $1, $2, $3, $4, $5, $6, coalesce((select outcome from claimed), 'duplicate'),
                    clock_timestamp()
             returning outcome)
         select logged.outcome, subscription.* from logged left join subscription on true",
    )
    .bind(delivery_id)
    .bind(delivery.event_id)
    .bind(delivery.event_type)
    .bind(Json(delivery.headers))
    .bind(delivery.payload)
    .bind(delivery.connect)
    .bind(created)
    .bind(account_id)
    .bind(lock)
    .bind(outcome)
    .bind(guard.map(Guard::as_str))
    .fetch_one(executor)
    .await?;
    let logged: &str = row.try_get("outcome")?;
    let subscription = match row.try_get::<Option<&str>, _>("stripe_subscription_id")? {
        Some(_) => Some(SubscriptionRow::from_row(&row)?),
        None => None,
    };
    Ok(Claim {
        claimed: logged != "duplicate",
        stale: logged == "stale",
        subscription,
    })
}

/// Corrects a claim and its delivery's log row written as `applied` by [`claim_and_log`] when the
/// handler decided otherwise (`stale`, `ignored`), in one statement.
pub(crate) async fn correct_outcome(
    tx: &mut Tx<'_>,
    event_id: &str,
    delivery_id: Uuid,
    outcome: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "with corrected as (update stripe_events set outcome = $3 where event_id = $1)
         update stripe_deliveries set outcome = $3 where id = $2",
    )
    .bind(event_id)
    .bind(delivery_id)
    .bind(outcome)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Claims an event id inside the handler's transaction. `false`: an earlier delivery holds it (this
/// waits for a concurrent claimer to commit or roll back, so exactly one applies).
pub(crate) async fn claim(
    tx: &mut Tx<'_>,
    event_id: &str,
    event_type: &str,
    created: DateTime<Utc>,
    account_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query(
        "insert into stripe_events (event_id, event_type, created, account_id, outcome)
         values ($1, $2, $3, $4, 'applied') on conflict (event_id) do nothing",
    )
    .bind(event_id)
    .bind(event_type)
    .bind(created)
    .bind(account_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(claimed == 1)
}

/// Sets the claimed event's outcome (applied, ignored or stale) in the same transaction.
pub(crate) async fn set_event_outcome(
    tx: &mut Tx<'_>,
    event_id: &str,
    outcome: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update stripe_events set outcome = $2, applied_at = now() where event_id = $1")
        .bind(event_id)
        .bind(outcome)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The latest stored payload of an event, for replay, and whether it came to the Connect endpoint.
pub(crate) async fn latest_payload(
    pool: &PgPool,
    event_id: &str,
) -> Result<Option<(Vec<u8>, bool)>, sqlx::Error> {
    sqlx::query_as(
        "select payload, connect from stripe_deliveries where event_id = $1
         order by received_at desc limit 1",
    )
    .bind(event_id)
    .fetch_optional(pool)
    .await
}

/// One stored event, as operators list it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRow {
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    pub(crate) created: Option<DateTime<Utc>>,
    pub(crate) account_id: Option<String>,
    pub(crate) outcome: String,
    pub(crate) deliveries: i64,
    pub(crate) first_received_at: DateTime<Utc>,
    pub(crate) applied_at: Option<DateTime<Utc>>,
    pub(crate) last_error: Option<String>,
}

/// An event by id: the claim if any, else the failed deliveries.
pub(crate) async fn event(pool: &PgPool, event_id: &str) -> Result<Option<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "select d.event_id, min(d.event_type) as event_type, e.created, e.account_id,
                coalesce(e.outcome, 'failed') as outcome, count(*) as deliveries,
                min(d.received_at) as first_received_at, e.applied_at,
                (array_agg(d.error order by d.received_at desc))[1] as last_error
         from stripe_deliveries d left join stripe_events e on e.event_id = d.event_id
         where d.event_id = $1
         group by d.event_id, e.created, e.account_id, e.outcome, e.applied_at",
    )
    .bind(event_id)
    .fetch_optional(pool)
    .await
}

/// Stored events, newest first, optionally filtered by outcome (`failed` = never applied) and type.
pub(crate) async fn list(
    pool: &PgPool,
    outcome: Option<&str>,
    event_type: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "select * from (
             select d.event_id, min(d.event_type) as event_type, e.created, e.account_id,
                    coalesce(e.outcome, 'failed') as outcome, count(*) as deliveries,
                    min(d.received_at) as first_received_at, e.applied_at,
                    (array_agg(d.error order by d.received_at desc))[1] as last_error
             from stripe_deliveries d left join stripe_events e on e.event_id = d.event_id
             group by d.event_id, e.created, e.account_id, e.outcome, e.applied_at
         ) events
         where ($1::text is null or outcome = $1) and ($2::text is null or event_type = $2)
         order by first_received_at desc, event_id
         limit $3 offset $4",
    )
    .bind(outcome)
    .bind(event_type)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}
