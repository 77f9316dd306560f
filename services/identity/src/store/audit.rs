//! The append-only audit trail of security events.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// One security event.
#[derive(Debug, Clone)]
pub(crate) struct AuditEvent<'a> {
    /// What happened: `signup`, `signup_existing_email`, `login_ok`, `login_failed`,
    /// `login_rate_limited`, `refresh_reuse`, `logout`, `logout_everywhere`, ...
    pub(crate) kind: &'static str,
    pub(crate) user_id: Option<Uuid>,
    pub(crate) email: Option<&'a str>,
    pub(crate) client_ip: Option<&'a str>,
    pub(crate) user_agent: Option<&'a str>,
    pub(crate) detail: serde_json::Value,
}

/// Appends an event.
pub(crate) async fn record(
    conn: &mut PgConnection,
    event: &AuditEvent<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into audit_events (occurred_at, kind, user_id, email, client_ip, user_agent, detail)
         values ($1, $2, $3, $4, $5, $6, $7::jsonb)",
    )
    .bind(now)
    .bind(event.kind)
    .bind(event.user_id)
    .bind(event.email)
    .bind(event.client_ip)
    .bind(event.user_agent)
    .bind(event.detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}
