//! The user's own checklist actions (done with data, dismissed) and the dismiss-rest flag.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use crate::domain::checklist::{Mark, StepPayload};

#[derive(Debug, FromRow)]
struct Row {
    step_id: String,
    state: String,
    data: Option<serde_json::Value>,
    updated_at: DateTime<Utc>,
}

/// Everything the user did on the tenant's checklist, by step id, and when they dismissed the rest.
pub async fn marks(
    pool: &PgPool,
    tenant_id: Uuid,
    user_id: Uuid,
) -> Result<(HashMap<String, Mark>, Option<DateTime<Utc>>), sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "select step_id, state, data, updated_at from checklist_steps
         where tenant_id = $1 and user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    let marks = rows
        .into_iter()
        .map(|row| {
            let mark = if row.state == "done" {
                Mark::Done {
                    at: row.updated_at,
                    // Stored by this service from parsed data; unreadable data is dropped
                    // rather than failing the whole checklist.
                    data: row
                        .data
                        .and_then(|d| serde_json::from_value::<StepPayload>(d).ok()),
                }
            } else {
                Mark::Dismissed { at: row.updated_at }
            };
            (row.step_id, mark)
        })
        .collect();
    let rest: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(
        "select rest_dismissed_at from checklist_progress where tenant_id = $1 and user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    Ok((marks, rest.flatten()))
}

/// Marks a user step done with its data (idempotent; newer data replaces older).
pub async fn complete(
    pool: &PgPool,
    tenant_id: Uuid,
    user_id: Uuid,
    step_id: &str,
    data: Option<&StepPayload>,
) -> Result<(), sqlx::Error> {
    let data = data
        .map(serde_json::to_value)
        .transpose()
        .map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into checklist_steps (tenant_id, user_id, step_id, state, data)
         values ($1, $2, $3, 'done', $4)
         on conflict (tenant_id, user_id, step_id) do update
         set state = 'done', data = excluded.data,
             updated_at = case when checklist_steps.state = 'done'
                               and checklist_steps.data is not distinct from excluded.data
                          then checklist_steps.updated_at else now() end",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(step_id)
    .bind(data)
    .execute(&mut *tx)
    .await?;
    crate::funnel::step_completed(&mut tx, tenant_id, user_id, step_id).await?;
    tx.commit().await
}

/// Dismisses steps that are not done by the user (idempotent: a dismissal keeps its first time).
pub async fn dismiss(
    pool: &PgPool,
    tenant_id: Uuid,
    user_id: Uuid,
    step_ids: &[String],
    rest: bool,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into checklist_steps (tenant_id, user_id, step_id, state)
         select $1, $2, unnest($3::text[]), 'dismissed'
         on conflict (tenant_id, user_id, step_id) do nothing",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(step_ids)
    .execute(&mut *tx)
    .await?;
    if rest {
        sqlx::query(
            "insert into checklist_progress (tenant_id, user_id, rest_dismissed_at)
             values ($1, $2, now())
             on conflict (tenant_id, user_id) do update
             set rest_dismissed_at = coalesce(checklist_progress.rest_dismissed_at, now())",
        )
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Undoes a dismissal (a done step stays done).
pub async fn restore(
    pool: &PgPool,
    tenant_id: Uuid,
    user_id: Uuid,
    step_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "delete from checklist_steps
         where tenant_id = $1 and user_id = $2 and step_id = $3 and state = 'dismissed'",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(step_id)
    .execute(pool)
    .await?;
    Ok(())
}
