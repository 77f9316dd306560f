//! Memberships and roles.

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::role::Role;

/// A membership as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Membership {
    pub(crate) tenant_id: Uuid,
    pub(crate) user_id: Uuid,
    pub(crate) role: Role,
    pub(crate) joined_at: DateTime<Utc>,
}

#[derive(Debug, FromRow)]
struct Row {
    tenant_id: Uuid,
    user_id: Uuid,
    role: String,
    joined_at: DateTime<Utc>,
}

impl TryFrom<Row> for Membership {
    type Error = anyhow::Error;

    fn try_from(row: Row) -> anyhow::Result<Self> {
        Ok(Self {
            role: Role::from_db(&row.role).ok_or_else(|| anyhow!("unknown role {}", row.role))?,
            tenant_id: row.tenant_id,
            user_id: row.user_id,
            joined_at: row.joined_at,
        })
    }
}

pub(crate) async fn insert(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    role: Role,
) -> anyhow::Result<Membership> {
    let row: Row = sqlx::query_as(
        "insert into memberships (tenant_id, user_id, role) values ($1, $2, $3) \
         returning tenant_id, user_id, role, joined_at",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(role.as_str())
    .fetch_one(conn)
    .await?;
    Membership::try_from(row)
}

pub(crate) async fn get(
    executor: impl PgExecutor<'_>,
    tenant_id: Uuid,
    user_id: Uuid,
) -> anyhow::Result<Option<Membership>> {
    let row: Option<Row> = sqlx::query_as(
        "select tenant_id, user_id, role, joined_at from memberships where tenant_id = $1 and user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(executor)
    .await?;
    row.map(Membership::try_from).transpose()
}

/// Locks the tenant's memberships for the rest of the transaction and returns them, owners first, so
/// last-owner checks cannot race (two owners demoting each other at once).
pub(crate) async fn lock_all(
    conn: &mut PgConnection,
    tenant_id: Uuid,
) -> anyhow::Result<Vec<Membership>> {
    let rows: Vec<Row> = sqlx::query_as(
        "select tenant_id, user_id, role, joined_at from memberships where tenant_id = $1 \
         order by user_id for update",
    )
    .bind(tenant_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Membership::try_from).collect()
}

/// Members, owners first, then by join time (offset pagination: member lists are short).
pub(crate) async fn list(
    executor: impl PgExecutor<'_>,
    tenant_id: Uuid,
    offset: i64,
    limit: i64,
) -> anyhow::Result<Vec<Membership>> {
    let rows: Vec<Row> = sqlx::query_as(
        "select tenant_id, user_id, role, joined_at from memberships where tenant_id = $1 \
         order by (role <> 'owner'), joined_at, user_id offset $2 limit $3",
    )
    .bind(tenant_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(Membership::try_from).collect()
}

pub(crate) async fn set_role(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    role: Role,
) -> anyhow::Result<Membership> {
    let row: Row = sqlx::query_as(
        "update memberships set role = $3 where tenant_id = $1 and user_id = $2 \
         returning tenant_id, user_id, role, joined_at",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(role.as_str())
    .fetch_one(conn)
    .await?;
    Membership::try_from(row)
}

pub(crate) async fn delete(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from memberships where tenant_id = $1 and user_id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn count(
    executor: impl PgExecutor<'_>,
    tenant_id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from memberships where tenant_id = $1")
        .bind(tenant_id)
        .fetch_one(executor)
        .await
}
