//! Users and their password credential.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

/// A user row.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct UserRow {
    pub(crate) id: Uuid,
    pub(crate) email: String,
    pub(crate) display_name: String,
    pub(crate) password_hash: Option<String>,
    pub(crate) email_verified_at: Option<DateTime<Utc>>,
    pub(crate) verification_grace_ends_at: Option<DateTime<Utc>>,
    pub(crate) created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, email, display_name, password_hash, email_verified_at, \
                       verification_grace_ends_at, created_at";

/// A new password account.
#[derive(Debug)]
pub(crate) struct NewUser<'a> {
    pub(crate) id: Uuid,
    pub(crate) email: &'a str,
    pub(crate) display_name: &'a str,
    pub(crate) password_hash: &'a str,
    pub(crate) verification_grace_ends_at: DateTime<Utc>,
    pub(crate) created_at: DateTime<Utc>,
}

/// Inserts the user unless the email is taken; `false` when it was.
pub(crate) async fn insert(conn: &mut PgConnection, user: &NewUser<'_>) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "insert into users (id, email, display_name, password_hash, verification_grace_ends_at, created_at)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (email) do nothing",
    )
    .bind(user.id)
    .bind(user.email)
    .bind(user.display_name)
    .bind(user.password_hash)
    .bind(user.verification_grace_ends_at)
    .bind(user.created_at)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// The user with this normalised email.
pub(crate) async fn by_email(
    conn: &mut PgConnection,
    email: &str,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("select {COLUMNS} from users where email = $1"))
        .bind(email)
        .fetch_optional(conn)
        .await
}

/// The user with this id.
pub(crate) async fn by_id(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("select {COLUMNS} from users where id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The users with these ids (any order).
pub(crate) async fn by_ids(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<UserRow>> {
    sqlx::query_as(&format!("select {COLUMNS} from users where id = any($1)"))
        .bind(ids)
        .fetch_all(conn)
        .await
}

/// Replaces the password hash (a rehash with current parameters, or a reset).
pub(crate) async fn set_password_hash(
    conn: &mut PgConnection,
    id: Uuid,
    phc: &str,
) -> sqlx::Result<()> {
    sqlx::query("update users set password_hash = $2 where id = $1")
        .bind(id)
        .bind(phc)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the email verified now (the grace period no longer matters); `false` if it already was.
pub(crate) async fn mark_verified(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update users set email_verified_at = $2, verification_grace_ends_at = null
         where id = $1 and email_verified_at is null",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The user with this id, locked for the rest of the transaction.
pub(crate) async fn by_id_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from users where id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Renames the user; `false` when there is no such user.
pub(crate) async fn set_display_name(
    conn: &mut PgConnection,
    id: Uuid,
    display_name: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("update users set display_name = $2 where id = $1")
        .bind(id)
        .bind(display_name)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
