//! Provisioning requests (idempotency), starter data and the audit of failed attempts.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::template::StarterTemplate;

/// Serialises every attempt with one (caller, key) until the transaction ends, so concurrent
/// duplicates wait for the first and then find its stored result.
pub(crate) async fn lock_key(
    conn: &mut PgConnection,
    user_id: Uuid,
    key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("provision:{user_id}:{key}"))
        .execute(conn)
        .await?;
    Ok(())
}

/// The first result stored for a (caller, key), with the parameters it was made with.
#[derive(Debug, FromRow)]
pub(crate) struct StoredRequest {
    pub(crate) name: String,
    pub(crate) slug: String,
    pub(crate) plan_id: String,
    pub(crate) response: Vec<u8>,
}

pub(crate) async fn find_request(
    executor: impl PgExecutor<'_>,
    user_id: Uuid,
    key: &str,
) -> Result<Option<StoredRequest>, sqlx::Error> {
    sqlx::query_as(
        "select name, slug, plan_id, response from provisioning_requests \
         where user_id = $1 and idempotency_key = $2",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(executor)
    .await
}

/// What a provisioning request asked for (the parameters that must match on replay).
#[derive(Debug)]
pub(crate) struct RequestParams<'a> {
    pub(crate) user_id: Uuid,
    pub(crate) key: &'a str,
    pub(crate) name: &'a str,
    /// The requested slug as sent ("" when derived).
    pub(crate) slug: &'a str,
    pub(crate) plan_id: &'a str,
}

pub(crate) async fn insert_request(
    conn: &mut PgConnection,
    params: &RequestParams<'_>,
    tenant_id: Uuid,
    response: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into provisioning_requests (user_id, idempotency_key, name, slug, plan_id, tenant_id, response) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(params.user_id)
    .bind(params.key)
    .bind(params.name)
    .bind(params.slug)
    .bind(params.plan_id)
    .bind(tenant_id)
    .bind(response)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes stored results older than the retention (the keys become reusable).
pub(crate) async fn purge_requests(
    executor: impl PgExecutor<'_>,
    older_than: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("delete from provisioning_requests where created_at < $1")
        .bind(older_than)
        .execute(executor)
        .await?;
    Ok(done.rows_affected())
}

/// Records a failed attempt for operators (outside the rolled-back transaction).
pub(crate) async fn insert_failure(
    executor: impl PgExecutor<'_>,
    user_id: Uuid,
    key: &str,
    step: &str,
    cause: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into provisioning_failures (id, user_id, idempotency_key, step, cause) values ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::now_v7())
    .bind(user_id)
    .bind(key)
    .bind(step)
    .bind(cause)
    .execute(executor)
    .await?;
    Ok(())
}

/// One starter item as stored.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub(crate) struct StarterItem {
    pub(crate) id: Uuid,
    pub(crate) kind: String,
    pub(crate) key: String,
    pub(crate) name: String,
    pub(crate) parent_key: String,
    pub(crate) position: i32,
}

/// Creates the tenant's starter data from the template, in one statement.
pub(crate) async fn insert_starter_items(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    template: &StarterTemplate,
) -> Result<(), sqlx::Error> {
    let positioned = template.positioned();
    let ids: Vec<Uuid> = positioned.iter().map(|_| Uuid::now_v7()).collect();
    let kinds: Vec<&str> = positioned.iter().map(|(i, _)| i.kind.as_str()).collect();
    let keys: Vec<&str> = positioned.iter().map(|(i, _)| i.key.as_str()).collect();
    let names: Vec<&str> = positioned.iter().map(|(i, _)| i.name.as_str()).collect();
    let parents: Vec<&str> = positioned
        .iter()
        .map(|(i, _)| i.parent_key.as_str())
        .collect();
    let positions: Vec<i32> = positioned.iter().map(|(_, p)| *p).collect();
    sqlx::query(
        "insert into starter_items (id, tenant_id, kind, key, name, parent_key, position) \
         select id, $2, kind, key, name, parent_key, position \
         from unnest($1::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[]) \
           as i (id, kind, key, name, parent_key, position)",
    )
    .bind(&ids)
    .bind(tenant_id)
    .bind(&kinds)
    .bind(&keys)
    .bind(&names)
    .bind(&parents)
    .bind(&positions)
    .execute(conn)
    .await?;
    Ok(())
}

/// The tenant's starter data, parents before children, by position.
pub(crate) async fn starter_items(
    executor: impl PgExecutor<'_>,
    tenant_id: Uuid,
) -> Result<Vec<StarterItem>, sqlx::Error> {
    sqlx::query_as(
        "select id, kind, key, name, parent_key, position from starter_items where tenant_id = $1 \
         order by (parent_key <> ''), parent_key, position",
    )
    .bind(tenant_id)
    .fetch_all(executor)
    .await
}
