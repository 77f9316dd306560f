//! Failed-login counting in Postgres, so every replica (and every gateway) sees the same counts.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

/// Failures within a window, and the oldest one (which decides when the window frees a slot).
#[derive(Debug, Clone, FromRow)]
pub(crate) struct Failures {
    pub(crate) count: i64,
    pub(crate) oldest: Option<DateTime<Utc>>,
}

/// Whose failures to count.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counted<'a> {
    /// One account's.
    Email(&'a str),
    /// One client IP's.
    Ip(&'a str),
}

/// Failures for the account or client IP since `since`.
pub(crate) async fn failures(
    conn: &mut PgConnection,
    counted: Counted<'_>,
    since: DateTime<Utc>,
) -> sqlx::Result<Failures> {
    // Two static statements (not one with a dynamic column), each served by its own index.
    let (sql, key) = match counted {
        Counted::Email(email) => (
            "select count(*) as count, min(failed_at) as oldest from login_failures
             where email = $1 and failed_at > $2",
            email,
        ),
        Counted::Ip(ip) => (
            "select count(*) as count, min(failed_at) as oldest from login_failures
             where client_ip = $1 and failed_at > $2",
            ip,
        ),
    };
    sqlx::query_as(sql)
        .bind(key)
        .bind(since)
        .fetch_one(conn)
        .await
}

/// Records one failed login (or an attempt counted as failed until it succeeds); its id.
pub(crate) async fn record(
    conn: &mut PgConnection,
    email: &str,
    client_ip: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "insert into login_failures (email, client_ip, failed_at) values ($1, $2, $3) returning id",
    )
    .bind(email)
    .bind(client_ip)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Removes an attempt recorded by [`record`] that turned out not to be a failure.
pub(crate) async fn forget(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query("delete from login_failures where id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A successful login resets the account's counter (the per-IP count stays).
pub(crate) async fn reset_account(conn: &mut PgConnection, email: &str) -> sqlx::Result<()> {
    sqlx::query("update login_failures set email = '' where email = $1")
        .bind(email)
        .execute(conn)
        .await?;
    Ok(())
}

/// Serialises login attempts for one account until the transaction ends.
pub(crate) async fn lock_account(conn: &mut PgConnection, email: &str) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('login:' || $1, 0))")
        .bind(email)
        .execute(conn)
        .await?;
    Ok(())
}
