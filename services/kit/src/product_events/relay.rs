//! Sends pending product events to a PostHog-compatible capture API (`POST {POSTHOG_HOST}/batch/`).
//!
//! Rows are claimed with `for update skip locked`, so replicas never send the same row at once. A
//! crash between PostHog's answer and the commit that marks the rows sent resends them: each event
//! carries its row id as PostHog's `uuid`, which PostHog deduplicates on. A failed batch is retried
//! with exponential backoff (2 s doubling, capped at an hour).
//!
//! The relay also prunes: once an hour it deletes relayed events older than the retention
//! (`PRODUCT_EVENTS_RETENTION`), so the table holds what the funnel and billing's actor lookup read
//! and does not grow forever. Events keyed [`super::ProductEvent::once`] are kept: deleting one
//! would let its fact be recorded a second time.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::runtime::Worker;

use super::{
    OUTBOX,
    settings::{ProductEventSettings, Sink},
};

/// Events per batch: one request, and the rows held locked while it is in flight.
const BATCH: i64 = 100;

/// A batch that takes longer than this failed (and is retried).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the relay deletes relayed events past their retention.
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);

/// Rows deleted per statement, so pruning a large backlog never holds a long lock.
const PRUNE_BATCH: i64 = 1000;

/// Relays product events until shutdown.
#[derive(Debug, Clone)]
pub struct ProductEventRelay {
    pool: PgPool,
    sink: Sink,
    client: reqwest::Client,
    poll_interval: Duration,
    retention: Duration,
    service: &'static str,
}

#[derive(sqlx::FromRow)]
struct Pending {
    id: Uuid,
    name: String,
    distinct_id: String,
    properties: serde_json::Value,
    occurred_at: DateTime<Utc>,
}

impl ProductEventRelay {
    /// A relay for `service` over `pool`'s `product_events`, or `None` (logged) when no capture API
    /// is configured: events then stay recorded for the funnel and nothing is sent.
    pub fn configured(
        pool: PgPool,
        settings: &ProductEventSettings,
        service: &'static str,
    ) -> anyhow::Result<Option<Self>> {
        let Some(sink) = settings.sink() else {
            tracing::info!(
                service,
                "POSTHOG_HOST and POSTHOG_API_KEY are not both set: product events are recorded, not relayed"
            );
            return Ok(None);
        };
        metrics::describe_counter!(
            "onramp_outbox_relayed_total",
            "Outbox rows relayed, by service and outbox"
        );
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Some(Self {
            pool,
            sink,
            client,
            poll_interval: settings.poll_interval,
            retention: settings.retention,
            service,
        }))
    }

    /// The relay as a background [`Worker`] when configured: the runtime starts it once the
    /// migrations are applied and stops it when draining starts.
    pub fn worker(
        pool: PgPool,
        settings: &ProductEventSettings,
        service: &'static str,
    ) -> anyhow::Result<Option<Worker>> {
        Ok(Self::configured(pool, settings, service)?
            .map(|relay| Worker::new("product event relay", move |stop| relay.run(stop))))
    }

    /// Relays until `shutdown` fires; a failed pass is counted, logged and retried.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut pruned_at: Option<Instant> = None;
        loop {
            if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                self.prune_logged().await;
                pruned_at = Some(Instant::now());
            }
            let outcome = self.relay_once().await;
            self.sample_depth().await;
            match outcome {
                Ok(sent) if sent > 0 => continue,
                Ok(_) => {}
                // Started with the service, the relay may look before its migrations ran: waiting
                // for the table is no failure to page on.
                Err(error) if not_migrated_yet(&error) => {
                    tracing::debug!(service = self.service, "product_events not migrated yet");
                }
                Err(error) => {
                    // A pass that could not run fails (at least) one attempt.
                    self.count("onramp_outbox_relay_failures_total", 1);
                    tracing::warn!(
                        service = self.service,
                        error = format!("{error:#}"),
                        "product event relay pass failed; will retry"
                    );
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.poll_interval) => {}
            }
        }
    }

    /// Prunes, logging a failure (the next hour tries again) but not an unmigrated table.
    async fn prune_logged(&self) {
        match self.prune_once().await {
            Ok(0) => {}
            Ok(deleted) => {
                tracing::info!(
                    service = self.service,
                    deleted,
                    "pruned relayed product events"
                );
            }
            Err(error) if not_migrated_yet(&error) => {}
            Err(error) => tracing::warn!(
                service = self.service,
                error = format!("{error:#}"),
                "pruning product events failed; will retry"
            ),
        }
    }

    /// Deletes events relayed longer ago than the retention (except once-keyed ones, see the
    /// module's comment), in batches. Returns how many were deleted.
    pub async fn prune_once(&self) -> anyhow::Result<u64> {
        let mut deleted = 0;
        loop {
            let done = sqlx::query(
                "delete from product_events where id in (
                     select id from product_events
                     where sent_at < now() - make_interval(secs => $1) and once_key is null
                     limit $2)",
            )
            .bind(self.retention.as_secs_f64())
            .bind(PRUNE_BATCH)
            .execute(&self.pool)
            .await?
            .rows_affected();
            deleted += done;
            if done < PRUNE_BATCH as u64 {
                return Ok(deleted);
            }
        }
    }

    fn count(&self, name: &'static str, by: u64) {
        metrics::counter!(name, "service" => self.service, "outbox" => OUTBOX).increment(by);
    }

    /// One pass: claims due events, sends them as one batch, marks them sent or (the capture API
    /// refused or was unreachable) schedules their retry and counts them failed. Returns how many
    /// were sent; an error means the pass itself could not run (the database).
    pub async fn relay_once(&self) -> anyhow::Result<usize> {
        let mut tx = self.pool.begin().await?;
        let due: Vec<Pending> = sqlx::query_as(
            "select id, name, distinct_id, properties, occurred_at from product_events
             where sent_at is null and next_attempt_at <= now()
             order by occurred_at limit $1 for update skip locked",
        )
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let ids: Vec<Uuid> = due.iter().map(|row| row.id).collect();
        match self.send(&due).await {
            Ok(()) => {
                sqlx::query(
                    "update product_events set sent_at = now(), attempts = attempts + 1
                     where id = any($1)",
                )
                .bind(&ids)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                self.count("onramp_outbox_relayed_total", due.len() as u64);
                Ok(due.len())
            }
            Err(error) => {
                let message = format!("{error:#}");
                sqlx::query(
                    "update product_events set attempts = attempts + 1, last_error = $2,
                         next_attempt_at = now() + make_interval(secs => least(power(2, attempts + 1), 3600))
                     where id = any($1)",
                )
                .bind(&ids)
                .bind(&message)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                self.count("onramp_outbox_relay_failures_total", due.len() as u64);
                tracing::warn!(
                    service = self.service,
                    events = due.len(),
                    error = message,
                    "product event batch not accepted; will retry"
                );
                Ok(0)
            }
        }
    }

    async fn send(&self, due: &[Pending]) -> anyhow::Result<()> {
        let batch: Vec<serde_json::Value> = due
            .iter()
            .map(|row| {
                let mut properties = row.properties.clone();
                if let Some(map) = properties.as_object_mut() {
                    map.insert("service".to_owned(), self.service.into());
                    map.insert("$lib".to_owned(), "onramp".into());
                }
                serde_json::json!({
                    "uuid": row.id,
                    "event": row.name,
                    "distinct_id": row.distinct_id,
                    "timestamp": row.occurred_at,
                    "properties": properties,
                })
            })
            .collect();
        let body = serde_json::json!({
            "api_key": self.sink.api_key.expose_secret(),
            "batch": batch,
        });
        let response = self
            .client
            .post(&self.sink.batch_url)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        // Only the status is kept: the body is the sink's and says nothing the operator needs.
        anyhow::ensure!(status.is_success(), "the capture API answered {status}");
        Ok(())
    }

    /// Sets the outbox depth and oldest-age gauges for this relay's events.
    async fn sample_depth(&self) {
        let row: Result<(i64, f64), _> = sqlx::query_as(
            "select count(*), coalesce(extract(epoch from now() - min(occurred_at))::float8, 0)
             from product_events where sent_at is null",
        )
        .fetch_one(&self.pool)
        .await;
        if let Ok((depth, oldest)) = row {
            metrics::gauge!("onramp_outbox_depth", "service" => self.service, "outbox" => OUTBOX)
                .set(depth as f64);
            metrics::gauge!("onramp_outbox_oldest_age_seconds",
                "service" => self.service, "outbox" => OUTBOX)
            .set(oldest.max(0.0));
        }
    }
}

/// Whether `error` is Postgres's "undefined table" (42P01): the schema is not migrated yet.
fn not_migrated_yet(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<sqlx::Error>()
        .and_then(sqlx::Error::as_database_error)
        .and_then(|db| db.code())
        .is_some_and(|code| code == "42P01")
}
