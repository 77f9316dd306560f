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

impl<'a> AuditEvent<'a> {
    /// An event of `kind` from `client_ip` and `user_agent`; no user, no email, an empty detail.
    pub(crate) fn new(
        kind: &'static str,
        client_ip: Option<&'a str>,
        user_agent: Option<&'a str>,
    ) -> Self {
        Self {
            kind,
            user_id: None,
            email: None,
            client_ip,
            user_agent,
            detail: serde_json::json!({}),
        }
    }

    /// The user the event is about.
    pub(crate) fn user(self, user_id: Uuid) -> Self {
        Self {
            user_id: Some(user_id),
            ..self
        }
    }

    /// The address the event is about (a login attempt names one whether or not it exists).
    pub(crate) fn email(self, email: &'a str) -> Self {
        Self {
            email: Some(email),
            ..self
        }
    }

    /// What else is worth keeping about the event.
    pub(crate) fn detail(self, detail: serde_json::Value) -> Self {
        Self { detail, ..self }
    }
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
