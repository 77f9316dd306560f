//! Applying Stripe's account state to the mirror and the tokens, once per event and never older
//! over newer.

use chrono::{DateTime, Utc};

use super::{Connect, Outcome, Tie};
use crate::{
    domain::connect::{AccountSnapshot, AccountStatus},
    error::OnboardingError,
    store::connect::{self as store, AccountRow},
};

/// Why [`Connect::apply`] stopped.
#[derive(Debug)]
pub(super) enum TieError {
    /// A tie that only a fresh read can settle.
    Reread,
    /// A real failure.
    Failed(OnboardingError),
}

impl TieError {
    pub(super) fn into_error(self) -> OnboardingError {
        match self {
            // Only Tie::Reread asks for a re-read, and every caller passing it handles this variant.
            Self::Reread => OnboardingError::Unexpected(anyhow::anyhow!("unsettled version tie")),
            Self::Failed(error) => error,
        }
    }
}

impl From<sqlx::Error> for TieError {
    fn from(error: sqlx::Error) -> Self {
        Self::Failed(error.into())
    }
}

impl From<TieError> for OnboardingError {
    fn from(error: TieError) -> Self {
        error.into_error()
    }
}

impl Connect {
    /// Applies `fresh` as Stripe's state at `at`, in one transaction: claim the event (if any), lock
    /// the account, refuse stale state, update the mirror and complete in_progress tokens when the
    /// requirements are met.
    pub(super) async fn apply(
        &self,
        fresh: &AccountSnapshot,
        at: DateTime<Utc>,
        event_id: Option<&str>,
        tie: Tie,
    ) -> Result<Outcome, TieError> {
        let mut tx = self.pool.begin().await?;
        if let Some(event_id) = event_id
            && !store::claim_event(&mut tx, event_id, &fresh.stripe_account_id).await?
        {
            drop(tx);
            let current = self.account_by_stripe_id(&fresh.stripe_account_id).await?;
            return Ok(current.map_or(Outcome::UnknownAccount, Outcome::Duplicate));
        }
        let Some(current) =
            store::lock_account_by_stripe_id(&mut tx, &fresh.stripe_account_id).await?
        else {
            // Rolled back: the event id stays unclaimed, so a later delivery can still apply.
            return Ok(Outcome::UnknownAccount);
        };
        // Events carry no country; keep the mirrored one.
        let fresh = AccountSnapshot {
            country: current.country.clone(),
            ..fresh.clone()
        };
        if at < current.stripe_state_at {
            tx.commit().await?;
            return Ok(Outcome::Stale(current));
        }
        if at == current.stripe_state_at
            && fresh != current.snapshot()
            && matches!(tie, Tie::Reread)
        {
            return Err(TieError::Reread);
        }
        let updated = store::update_account(&mut tx, &fresh, at).await?;
        let completed = if AccountStatus::of(&fresh) == AccountStatus::Complete {
            store::complete_tokens(&mut tx, current.tenant_id).await?
        } else {
            0
        };
        tx.commit().await?;
        Ok(Outcome::Applied(updated, completed))
    }

    async fn account_by_stripe_id(&self, id: &str) -> Result<Option<AccountRow>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        store::lock_account_by_stripe_id(&mut conn, id).await
    }
}
