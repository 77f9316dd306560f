//! Gauges read on an interval rather than at each event: the Postgres pool's connections, the
//! mail outbox's depth and oldest age, and readiness. Started by [`crate::runtime::BoundService`] for every
//! service, so each gets them without code of its own.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// How often the gauges are refreshed: well inside a typical 15–30 s scrape interval.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(5);

/// The outbox label of the transactional email outbox (`onramp_kit::mail::outbox`).
pub const MAIL_OUTBOX: &str = "mail";

/// Sets `onramp_ready{service}`: 1 while the service reports SERVING, else 0.
pub fn set_ready(service: &'static str, ready: bool) {
    metrics::gauge!("onramp_ready", "service" => service).set(if ready { 1.0 } else { 0.0 });
}

/// Samples `pool` (and its `email_outbox`, if the service has one) every [`SAMPLE_INTERVAL`]
/// until `stop` fires.
pub async fn run(service: &'static str, pool: PgPool, stop: CancellationToken) {
    let mut has_outbox = false;
    loop {
        sample_pool(service, &pool);
        has_outbox = sample_mail_outbox(service, &pool, has_outbox).await;
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(SAMPLE_INTERVAL) => {}
        }
    }
}

/// Sets `onramp_db_pool_connections{service, state}` for idle, in-use and the pool's maximum.
pub fn sample_pool(service: &'static str, pool: &PgPool) {
    let size = pool.size();
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX).min(size);
    let max = pool.options().get_max_connections();
    for (state, value) in [("idle", idle), ("in_use", size - idle), ("max", max)] {
        metrics::gauge!("onramp_db_pool_connections", "service" => service, "state" => state)
            .set(f64::from(value));
    }
}

/// Sets the mail outbox's depth and oldest age; `exists` says the table was found before. Returns
/// whether it exists. A database that is down leaves the gauges as they were (the readiness and
/// pool series tell that story).
async fn sample_mail_outbox(service: &'static str, pool: &PgPool, exists: bool) -> bool {
    if !exists {
        // Services without mail have no table, and nobody has it before migrations ran: a
        // catalog lookup each interval until it appears.
        let found = sqlx::query_scalar::<_, bool>("select to_regclass('email_outbox') is not null")
            .fetch_one(pool)
            .await;
        if !matches!(found, Ok(true)) {
            return false;
        }
    }
    // Served by the partial index on unsent rows, however long the sent history grows.
    let row: Result<(i64, f64), _> = sqlx::query_as(
        "select count(*), coalesce(extract(epoch from now() - min(created_at))::float8, 0) \
         from email_outbox where sent_at is null",
    )
    .fetch_one(pool)
    .await;
    if let Ok((depth, oldest)) = row {
        metrics::gauge!("onramp_outbox_depth", "service" => service, "outbox" => MAIL_OUTBOX)
            .set(depth as f64);
        metrics::gauge!(
            "onramp_outbox_oldest_age_seconds",
            "service" => service,
            "outbox" => MAIL_OUTBOX,
        )
        .set(oldest.max(0.0));
    }
    true
}
