//! Single-use emailed tokens (verification and password reset), stored as hashes.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

/// Which kind of emailed token; each has its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Verification,
    Reset,
}

impl TokenKind {
    fn table(self) -> &'static str {
        match self {
            TokenKind::Verification => "email_verification_tokens",
            TokenKind::Reset => "password_reset_tokens",
        }
    }
}

/// A token row, locked for the rest of the transaction.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct EmailToken {
    pub(crate) user_id: Uuid,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) used_at: Option<DateTime<Utc>>,
}

/// Stores a new token.
pub(crate) async fn insert(
    conn: &mut PgConnection,
    kind: TokenKind,
    token_hash: &[u8],
    user_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "insert into {} (token_hash, user_id, created_at, expires_at) values ($1, $2, $3, $4)",
        kind.table()
    ))
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The token with this hash, locked.
pub(crate) async fn for_update(
    conn: &mut PgConnection,
    kind: TokenKind,
    token_hash: &[u8],
) -> sqlx::Result<Option<EmailToken>> {
    sqlx::query_as(&format!(
        "select user_id, expires_at, used_at from {} where token_hash = $1 for update",
        kind.table()
    ))
    .bind(token_hash)
    .fetch_optional(conn)
    .await
}

/// Marks a token used.
pub(crate) async fn mark_used(
    conn: &mut PgConnection,
    kind: TokenKind,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "update {} set used_at = $2 where token_hash = $1",
        kind.table()
    ))
    .bind(token_hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// When the user's newest token of this kind was issued.
pub(crate) async fn latest_issued(
    conn: &mut PgConnection,
    kind: TokenKind,
    user_id: Uuid,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(&format!(
        "select max(created_at) from {} where user_id = $1",
        kind.table()
    ))
    .bind(user_id)
    .fetch_one(conn)
    .await
}

/// Records a reset request for `email` and returns how many there were since `since` (this one
/// included). Counted whether or not the account exists.
pub(crate) async fn count_reset_request(
    conn: &mut PgConnection,
    email: &str,
    client_ip: Option<&str>,
    now: DateTime<Utc>,
    since: DateTime<Utc>,
) -> sqlx::Result<(i64, Option<DateTime<Utc>>)> {
    sqlx::query(
        "insert into password_reset_requests (email, client_ip, requested_at) values ($1, $2, $3)",
    )
    .bind(email)
    .bind(client_ip)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query_as(
        "select count(*), min(requested_at) from password_reset_requests
         where email = $1 and requested_at > $2",
    )
    .bind(email)
    .bind(since)
    .fetch_one(conn)
    .await
}

/// The token with this hash if it is unused and unexpired (a read without a lock, to refuse bogus
/// links before any expensive work).
pub(crate) async fn live(
    conn: &mut PgConnection,
    kind: TokenKind,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(&format!(
        "select user_id from {} where token_hash = $1 and used_at is null and expires_at > $2",
        kind.table()
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Serialises reset requests for one address until the transaction ends.
pub(crate) async fn lock_reset_requests(conn: &mut PgConnection, email: &str) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('reset:' || $1, 0))")
        .bind(email)
        .execute(conn)
        .await?;
    Ok(())
}
