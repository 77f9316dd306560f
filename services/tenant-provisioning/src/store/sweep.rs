//! The sweep's read-only queries: incomplete starter data and tenants stuck waiting for payment.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// A tenant whose starter items do not cover every template key.
#[derive(Debug, FromRow)]
pub(crate) struct Incomplete {
    pub(crate) tenant_id: Uuid,
    pub(crate) slug: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) missing_keys: Vec<String>,
}

pub(crate) async fn incomplete_starter_data(
    executor: impl PgExecutor<'_>,
    template_keys: &[String],
    limit: i64,
) -> Result<Vec<Incomplete>, sqlx::Error> {
    sqlx::query_as(
        "select t.id as tenant_id, t.slug, t.created_at, array( \
           select k from unnest($1::text[]) as k \
           where not exists (select 1 from starter_items s where s.tenant_id = t.id and s.key = k) \
         ) as missing_keys \
         from tenants t \
         where (select count(distinct s.key) from starter_items s \
                where s.tenant_id = t.id and s.key = any($1)) < cardinality($1) \
         order by t.created_at limit $2",
    )
    .bind(template_keys)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// A tenant in pending_payment since before the threshold.
#[derive(Debug, FromRow)]
pub(crate) struct Stuck {
    pub(crate) tenant_id: Uuid,
    pub(crate) slug: String,
    pub(crate) pending_since: DateTime<Utc>,
    pub(crate) owner_user_id: Option<Uuid>,
}

pub(crate) async fn stuck_pending_payment(
    executor: impl PgExecutor<'_>,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Stuck>, sqlx::Error> {
    sqlx::query_as(
        "select t.id as tenant_id, t.slug, t.state_changed_at as pending_since, \
           (select m.user_id from memberships m where m.tenant_id = t.id and m.role = 'owner' \
            order by m.joined_at limit 1) as owner_user_id \
         from tenants t where t.state = 'pending_payment' and t.state_changed_at < $1 \
         order by t.state_changed_at limit $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(executor)
    .await
}

pub(crate) async fn count_stuck(
    executor: impl PgExecutor<'_>,
    since: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select count(*) from tenants where state = 'pending_payment' and state_changed_at < $1",
    )
    .bind(since)
    .fetch_one(executor)
    .await
}
