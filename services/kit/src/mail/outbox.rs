//! The transactional email outbox: enqueue inside the caller's transaction, relay afterwards.
//!
//! A crash after the commit but before the send loses nothing: the row waits for the next relay
//! pass, in this replica or another. Rows are claimed with `for update skip locked`, so replicas never
//! send the same row concurrently. The table is [`TABLE_SQL`]; each service puts it in its migrations.
//! Once a row is sent its body is replaced by [`SENT_BODY`]: mails carry one-time links (verification,
//! password reset, invites) that would otherwise sit in the table in plaintext.

use std::{sync::Arc, time::Duration};

use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    Email,
    smtp::{Mailer, SmtpSettings},
};
use crate::runtime::Worker;

/// The outbox table's DDL, to copy into a service's migrations.
pub const TABLE_SQL: &str = include_str!("outbox.sql");

/// Writes `email` to the outbox as part of the caller's transaction. Returns the row id, which is
/// also the message's `Message-ID`.
pub async fn enqueue(conn: &mut PgConnection, email: &Email) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into email_outbox (id, to_address, subject, body_text) values ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(&email.to)
    .bind(&email.subject)
    .bind(&email.body_text)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Sends pending outbox rows until shutdown.
#[derive(Debug, Clone)]
pub struct OutboxRelay {
    pool: PgPool,
    mailer: Arc<Mailer>,
    poll_interval: Duration,
    service: &'static str,
}

#[derive(sqlx::FromRow)]
struct Pending {
    id: Uuid,
    to_address: String,
    subject: String,
    body_text: String,
}

/// What a sent row's body is replaced with: the mail left, its one-time links must not stay here.
pub const SENT_BODY: &str = "[sent; body removed]";

/// Rows claimed per pass; small, since each is held locked while it is sent.
const BATCH: i64 = 20;

impl OutboxRelay {
    /// A relay over `pool`'s `email_outbox`, looking for work every `poll_interval`.
    pub fn new(pool: PgPool, mailer: Mailer, poll_interval: Duration) -> Self {
        Self {
            pool,
            mailer: Arc::new(mailer),
            poll_interval,
            service: "unknown",
        }
    }

    /// `service`'s relay when SMTP is configured, or `None` (logged): mail then waits in the
    /// outbox until a replica that can send it runs.
    pub fn configured(
        pool: PgPool,
        smtp: Option<&SmtpSettings>,
        poll_interval: Duration,
        service: &'static str,
    ) -> anyhow::Result<Option<Self>> {
        let Some(smtp) = smtp else {
            tracing::info!(
                service,
                "SMTP_URL is not set: emails wait in the outbox until a replica can send them"
            );
            return Ok(None);
        };
        let relay = Self::new(pool, Mailer::new(smtp)?, poll_interval).for_service(service);
        Ok(Some(relay))
    }

    /// Names the service in the relay's metrics (`onramp_outbox_relay_failures_total{service}`);
    /// `unknown` until set. The depth and age gauges need no call: the runtime samples them.
    #[must_use]
    pub fn for_service(mut self, service: &'static str) -> Self {
        self.service = service;
        self
    }

    /// The relay as a [`Worker`] for [`crate::runtime::BoundService`], which starts it once the service's
    /// migrations (and so the `email_outbox` table) are in.
    pub fn into_worker(self) -> Worker {
        Worker::new("mail outbox relay", move |stop| self.run(stop))
    }

    /// Relays until `shutdown` fires; errors are logged and retried on the next pass. Start it after
    /// the migrations: before them every pass fails (see [`Self::into_worker`]).
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            match self.relay_once().await {
                Ok(sent) if sent > 0 => continue,
                Ok(_) => {}
                Err(error) => {
                    // A pass that could not run (the database, say) fails every row it would have sent.
                    self.count_failure();
                    tracing::warn!(error = format!("{error:#}"), "email outbox pass failed")
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.poll_interval) => {}
            }
        }
    }

    fn count_failure(&self) {
        metrics::counter!(
            "onramp_outbox_relay_failures_total",
            "service" => self.service,
            "outbox" => crate::metrics::sampler::MAIL_OUTBOX,
        )
        .increment(1);
    }

    /// One pass: claims due rows, sends each, records success or schedules a retry. Returns how
    /// many were sent.
    pub async fn relay_once(&self) -> anyhow::Result<usize> {
        let mut tx = self.pool.begin().await?;
        let due: Vec<Pending> = sqlx::query_as(
            "select id, to_address, subject, body_text from email_outbox \
             where sent_at is null and next_attempt_at <= now() \
             order by created_at limit $1 for update skip locked",
        )
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        let mut sent = 0;
        for row in due {
            let email = Email {
                to: row.to_address,
                subject: row.subject,
                body_text: row.body_text,
            };
            match self.mailer.send(&email, &row.id.to_string()).await {
                Ok(()) => {
                    // The body goes once it is sent: it may carry one-time links (verification,
                    // reset, invites) that must not sit in plaintext in the table.
                    sqlx::query(
                        "update email_outbox set sent_at = now(), attempts = attempts + 1, \
                         body_text = $2 where id = $1",
                    )
                    .bind(row.id)
                    .bind(SENT_BODY)
                    .execute(&mut *tx)
                    .await?;
                    sent += 1;
                }
                Err(error) => {
                    self.count_failure();
                    tracing::warn!(outbox_id = %row.id, error = format!("{error:#}"), "email send failed; will retry");
                    // Exponential backoff: 2, 4, 8 … seconds, capped at an hour.
                    sqlx::query(
                        "update email_outbox set attempts = attempts + 1, last_error = $2, \
                         next_attempt_at = now() + make_interval(secs => least(power(2, attempts + 1), 3600)) \
                         where id = $1",
                    )
                    .bind(row.id)
                    .bind(format!("{error:#}"))
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(sent)
    }
}
