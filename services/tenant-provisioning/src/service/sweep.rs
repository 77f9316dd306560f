//! The sweep: incomplete starter data (must be none) and tenants stuck waiting for payment, for
//! operators on demand and logged periodically; the periodic run also forgets old idempotency keys.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    error::TenancyError,
    service::Tenancy,
    store::{
        provisioning,
        sweep::{self, Incomplete, Stuck},
    },
};

/// The sweep's findings.
#[derive(Debug)]
pub(crate) struct SweepReport {
    pub(crate) generated_at: DateTime<Utc>,
    pub(crate) incomplete: Vec<Incomplete>,
    pub(crate) stuck: Vec<Stuck>,
    pub(crate) stuck_total: i64,
}

impl Tenancy {
    /// The report for an operator.
    pub(crate) async fn sweep_report_for(
        &self,
        caller: Uuid,
        older_than: Option<Duration>,
        limit: i64,
    ) -> Result<SweepReport, TenancyError> {
        if !self.settings.operators.contains(&caller) {
            return Err(TenancyError::PermissionDenied("operators only"));
        }
        self.sweep_report(
            older_than.unwrap_or(self.settings.pending_payment_threshold),
            limit,
        )
        .await
    }

    pub(crate) async fn sweep_report(
        &self,
        older_than: Duration,
        limit: i64,
    ) -> Result<SweepReport, TenancyError> {
        let generated_at = Utc::now();
        let since =
            generated_at - chrono::Duration::from_std(older_than).map_err(anyhow::Error::from)?;
        let keys: Vec<String> = self
            .template
            .items
            .iter()
            .map(|item| item.key.clone())
            .collect();
        let incomplete = sweep::incomplete_starter_data(&self.pool, &keys, limit).await?;
        let stuck = sweep::stuck_pending_payment(&self.pool, since, limit).await?;
        let stuck_total = sweep::count_stuck(&self.pool, since).await?;
        Ok(SweepReport {
            generated_at,
            incomplete,
            stuck,
            stuck_total,
        })
    }

    /// One periodic run: log the report and purge idempotency keys past their retention.
    pub(crate) async fn periodic_sweep(&self, retention: Duration) -> Result<(), TenancyError> {
        let report = self
            .sweep_report(self.settings.pending_payment_threshold, 100)
            .await?;
        if !report.incomplete.is_empty() {
            let ids: Vec<String> = report
                .incomplete
                .iter()
                .map(|i| i.tenant_id.to_string())
                .collect();
            tracing::error!(tenants = ?ids, "tenants with incomplete starter data");
        }
        if report.stuck_total > 0 {
            tracing::warn!(
                count = report.stuck_total,
                "tenants stuck in pending_payment"
            );
        }
        let cutoff =
            Utc::now() - chrono::Duration::from_std(retention).map_err(anyhow::Error::from)?;
        let purged = provisioning::purge_requests(&self.pool, cutoff).await?;
        tracing::info!(purged, "sweep done");
        Ok(())
    }
}
