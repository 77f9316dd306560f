//! The transactional email outbox: rows written in the same transaction as the change that causes
//! them, sent later by a relay.

use sqlx::PgConnection;
use uuid::Uuid;

/// An email to send.
#[derive(Debug)]
pub(crate) struct OutgoingEmail<'a> {
    pub(crate) recipient: &'a str,
    pub(crate) subject: &'a str,
    pub(crate) body: &'a str,
}

pub(crate) async fn enqueue(
    conn: &mut PgConnection,
    email: &OutgoingEmail<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query("insert into email_outbox (id, recipient, subject, body) values ($1, $2, $3, $4)")
        .bind(Uuid::now_v7())
        .bind(email.recipient)
        .bind(email.subject)
        .bind(email.body)
        .execute(conn)
        .await?;
    Ok(())
}
