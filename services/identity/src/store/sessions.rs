//! Refresh-token families and their (hashed) tokens.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

/// A refresh token with its family's state, locked for the rest of the transaction.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct TokenRow {
    pub(crate) family_id: Uuid,
    pub(crate) user_id: Uuid,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) rotated_at: Option<DateTime<Utc>>,
    pub(crate) family_revoked_at: Option<DateTime<Utc>>,
}

/// Starts a family (a session) for `user_id`.
pub(crate) async fn insert_family(
    conn: &mut PgConnection,
    id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("insert into refresh_families (id, user_id, created_at) values ($1, $2, $3)")
        .bind(id)
        .bind(user_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores a new token (its hash) in a family.
pub(crate) async fn insert_token(
    conn: &mut PgConnection,
    token_hash: &[u8],
    family_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into refresh_tokens (token_hash, family_id, issued_at, expires_at) values ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(family_id)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The token with this hash, locking it and its family so concurrent rotations serialise.
pub(crate) async fn token_for_update(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> sqlx::Result<Option<TokenRow>> {
    sqlx::query_as(
        "select t.family_id, f.user_id, t.expires_at, t.rotated_at, f.revoked_at as family_revoked_at
         from refresh_tokens t join refresh_families f on f.id = t.family_id
         where t.token_hash = $1
         for update",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await
}

/// Marks a token used (rotated).
pub(crate) async fn mark_rotated(
    conn: &mut PgConnection,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("update refresh_tokens set rotated_at = $2 where token_hash = $1")
        .bind(token_hash)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes a family; `true` when it was live.
pub(crate) async fn revoke_family(
    conn: &mut PgConnection,
    family_id: Uuid,
    now: DateTime<Utc>,
    reason: &str,
) -> sqlx::Result<bool> {
    let sql = "update refresh_families set revoked_at = $2, revoked_reason = $3
               where id = $1 and revoked_at is null";
    Ok(revoke(conn, sql, family_id, now, reason).await? == 1)
}

/// Revokes every live family of a user; how many there were.
pub(crate) async fn revoke_all(
    conn: &mut PgConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
    reason: &str,
) -> sqlx::Result<u64> {
    let sql = "update refresh_families set revoked_at = $2, revoked_reason = $3
               where user_id = $1 and revoked_at is null";
    revoke(conn, sql, user_id, now, reason).await
}

/// Runs one of the revoking statements above (`$1` the family or user id); rows revoked.
async fn revoke(
    conn: &mut PgConnection,
    sql: &'static str,
    id: Uuid,
    now: DateTime<Utc>,
    reason: &str,
) -> sqlx::Result<u64> {
    let done = sqlx::query(sql)
        .bind(id)
        .bind(now)
        .bind(reason)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
