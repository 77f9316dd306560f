//! Counting refused deliveries without letting a flood of them serialize on the database.
//!
//! A forged or garbled delivery costs only a signature check: it is counted in memory, and the
//! counts are added to `webhook_rejections` by one background task every [`FLUSH_INTERVAL`] (and
//! once more on shutdown). Counting in the request, as an upsert of one row per reason, made every
//! bad delivery wait for the previous one's row lock — an attacker's flood then also delayed
//! Stripe's genuine deliveries, which share the pool.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::store;

/// How often the in-memory counts reach the table.
pub(crate) const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Rejections counted since the last flush, by reason. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct RejectionTally(Arc<Mutex<BTreeMap<&'static str, u64>>>);

impl RejectionTally {
    /// Counts one rejection (no I/O).
    pub(crate) fn count(&self, reason: &'static str) {
        *self.lock().entry(reason).or_default() += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, u64>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds the pending counts to the table; what could not be written is kept for the next flush.
    pub(crate) async fn flush(&self, pool: &PgPool) {
        let pending = std::mem::take(&mut *self.lock());
        for (reason, count) in pending {
            if let Err(error) = store::inbox::add_rejections(pool, reason, count).await {
                tracing::warn!(%error, reason, "recording webhook rejections failed; will retry");
                *self.lock().entry(reason).or_default() += count;
            }
        }
    }

    /// Flushes every [`FLUSH_INTERVAL`] until `stop`, then once more.
    pub(crate) async fn run(self, pool: PgPool, stop: CancellationToken) {
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(FLUSH_INTERVAL) => {}
            }
            self.flush(&pool).await;
        }
        self.flush(&pool).await;
    }
}
