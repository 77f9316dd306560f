//! Tenancy's domain metrics: how provisioning requests end, and how many tenants are in each
//! lifecycle state. Labels are small fixed sets; never a tenant id or a slug.

use crate::{
    domain::lifecycle::TenantState, error::TenancyError, service::Tenancy, store::tenants,
};

use super::provisioning::ProvisionResult;

/// Counts one ProvisionTenant answer in `onramp_provisioning_total{result}`.
pub(super) fn provisioning(outcome: &Result<ProvisionResult, TenancyError>) {
    let result = match outcome {
        Ok(done) if done.replayed => "replayed",
        Ok(_) => "created",
        Err(TenancyError::ProvisioningFailed { .. }) => "failed",
        Err(TenancyError::AlreadyExists { .. }) => "slug_taken",
        Err(TenancyError::IdempotencyKeyReused) => "key_reused",
        Err(TenancyError::Invalid(_) | TenancyError::IdempotencyKeyInvalid(_)) => "invalid",
        Err(TenancyError::Unavailable { .. }) => "unavailable",
        Err(TenancyError::Unexpected(_)) => "error",
        Err(_) => "refused",
    };
    metrics::counter!("onramp_provisioning_total", "result" => result).increment(1);
}

impl Tenancy {
    /// Sets `onramp_tenants{state}` from one grouped count (every known state, 0 when empty).
    pub(crate) async fn count_tenants(&self) -> Result<(), TenancyError> {
        let counts = tenants::count_by_state(&self.pool).await?;
        for state in TenantState::ALL {
            let count = counts
                .iter()
                .find(|(name, _)| name == state.as_str())
                .map_or(0, |(_, count)| *count);
            #[allow(clippy::cast_precision_loss)] // tenant counts stay far below 2^52
            metrics::gauge!("onramp_tenants", "state" => state.as_str()).set(count as f64);
        }
        Ok(())
    }
}
