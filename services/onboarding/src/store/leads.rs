//! Sales leads, their per-IP window and the notification outbox.

use chrono::{DateTime, Utc};
use onramp_kit::mail::Email;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::lead::SalesLead;

/// What storing a lead did.
#[derive(Debug, Clone)]
pub enum Stored {
    /// Stored, with its outbox row.
    Accepted {
        id: Uuid,
        received_at: DateTime<Utc>,
    },
    /// Over the limit; the oldest counted lead leaves the window at this time.
    Limited { window_frees_at: DateTime<Utc> },
}

/// Stores the lead and its notification email (outbox) in one transaction, unless `client_ip` already
/// sent `per_hour` leads in the last hour. A transaction-scoped advisory lock per IP makes the count
/// and the insert atomic across every replica.
pub async fn store_lead(
    pool: &PgPool,
    client_ip: &str,
    user_agent: &str,
    lead: &SalesLead,
    notification: &Email,
    per_hour: u32,
) -> Result<Stored, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('sales_lead:' || $1, 0))")
        .bind(client_ip)
        .execute(&mut *tx)
        .await?;
    let (count, oldest): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
        "select count(*), min(received_at) from (
             select received_at from sales_leads
             where client_ip = $1 and received_at > now() - interval '1 hour'
             order by received_at desc limit $2
         ) recent",
    )
    .bind(client_ip)
    .bind(i64::from(per_hour))
    .fetch_one(&mut *tx)
    .await?;
    if count >= i64::from(per_hour) {
        let oldest = oldest.unwrap_or_else(Utc::now);
        return Ok(Stored::Limited {
            window_frees_at: oldest + chrono::Duration::hours(1),
        });
    }
    let id = Uuid::now_v7();
    let received_at: DateTime<Utc> = sqlx::query_scalar(
        "insert into sales_leads (id, client_ip, full_name, email, company, company_size, phone,
             message, source, user_agent)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         returning received_at",
    )
    .bind(id)
    .bind(client_ip)
    .bind(&lead.full_name)
    .bind(&lead.email)
    .bind(&lead.company)
    .bind(lead.company_size)
    .bind(&lead.phone)
    .bind(&lead.message)
    .bind(&lead.source)
    .bind(user_agent)
    .fetch_one(&mut *tx)
    .await?;
    onramp_kit::mail::outbox::enqueue(&mut tx, notification).await?;
    crate::funnel::sales_lead(&mut tx, id, lead.company_size).await?;
    tx.commit().await?;
    Ok(Stored::Accepted { id, received_at })
}
