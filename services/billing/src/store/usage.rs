//! Usage counters, changed only through idempotent operations keyed by the caller's operation id.

use uuid::Uuid;

use super::Tx;

/// A recorded operation (the first result, replayed on repeats).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Operation {
    pub(crate) field: String,
    pub(crate) delta: i64,
    pub(crate) used_after: i64,
}

/// Claims `operation_id` for this tenant; `Some(first)` when it was recorded before (this waits for a
/// concurrent first attempt to commit or roll back).
pub(crate) async fn claim(
    tx: &mut Tx<'_>,
    tenant_id: Uuid,
    operation_id: &str,
    field: &str,
    delta: i64,
) -> Result<Option<Operation>, sqlx::Error> {
    let inserted = sqlx::query(
        "insert into usage_operations (tenant_id, operation_id, field, delta, used_after)
         values ($1, $2, $3, $4, 0) on conflict do nothing",
    )
    .bind(tenant_id)
    .bind(operation_id)
    .bind(field)
    .bind(delta)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(None);
    }
    sqlx::query_as(
        "select field, delta, used_after from usage_operations where tenant_id = $1 and operation_id = $2",
    )
    .bind(tenant_id)
    .bind(operation_id)
    .fetch_one(&mut **tx)
    .await
    .map(Some)
}

/// The counter, locked for this transaction (0 when it does not exist yet).
pub(crate) async fn lock_counter(
    tx: &mut Tx<'_>,
    tenant_id: Uuid,
    field: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "insert into usage_counters (tenant_id, field, used) values ($1, $2, 0) on conflict do nothing",
    )
    .bind(tenant_id)
    .bind(field)
    .execute(&mut **tx)
    .await?;
    sqlx::query_scalar(
        "select used from usage_counters where tenant_id = $1 and field = $2 for update",
    )
    .bind(tenant_id)
    .bind(field)
    .fetch_one(&mut **tx)
    .await
}

/// Stores the new value and the operation's result.
pub(crate) async fn set(
    tx: &mut Tx<'_>,
    tenant_id: Uuid,
    field: &str,
    operation_id: &str,
    used: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("update usage_counters set used = $3 where tenant_id = $1 and field = $2")
        .bind(tenant_id)
        .bind(field)
        .bind(used)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "update usage_operations set used_after = $3 where tenant_id = $1 and operation_id = $2",
    )
    .bind(tenant_id)
    .bind(operation_id)
    .bind(used)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Current usage of a counted field.
pub(crate) async fn used(
    executor: impl sqlx::PgExecutor<'_>,
    tenant_id: Uuid,
    field: &str,
) -> Result<i64, sqlx::Error> {
    Ok(
        sqlx::query_scalar("select used from usage_counters where tenant_id = $1 and field = $2")
            .bind(tenant_id)
            .bind(field)
            .fetch_optional(executor)
            .await?
            .unwrap_or(0),
    )
}

/// Records the tenant's card-less trial of a plan; `false` when it was used before.
pub(crate) async fn use_trial(
    tx: &mut Tx<'_>,
    tenant_id: Uuid,
    plan_id: Uuid,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "insert into trials_used (tenant_id, plan_id) values ($1, $2) on conflict do nothing",
    )
    .bind(tenant_id)
    .bind(plan_id)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}
