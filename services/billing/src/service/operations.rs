//! Operator use cases: the plan catalog, the Stripe event log and replay, the price sync and
//! reconciliation. Each checks the caller is an operator first.

use onramp_kit::grpc::convert::Page;
use uuid::Uuid;

use super::{Billing, catalog, catalog_sync, reconcile::Report};
use crate::{
    domain::plan::Plan,
    error::BillingError,
    store::{self, catalog::Written, inbox::EventRow},
    webhook::Outcome,
};

/// One page of the Stripe event log, and whether more follow.
pub(crate) struct EventPage {
    pub(crate) events: Vec<EventRow>,
    pub(crate) more: bool,
}

impl Billing {
    /// Every plan (public or not) and the catalog's version.
    pub(crate) async fn plan_catalog(&self, user: &str) -> Result<(Vec<Plan>, i64), BillingError> {
        self.access.operator(user)?;
        catalog::load(self.pool()).await
    }

    /// Replaces the catalog if it is still at `expected_version`.
    pub(crate) async fn put_plan_catalog(
        &self,
        user: &str,
        expected_version: i64,
        plans: Vec<Plan>,
    ) -> Result<Written, BillingError> {
        self.access.operator(user)?;
        catalog::put(self.pool(), user, expected_version, plans).await
    }

    /// One page of the stored Stripe events, newest first.
    pub(crate) async fn stripe_events(
        &self,
        user: &str,
        outcome: Option<&str>,
        event_type: Option<&str>,
        page: Page,
    ) -> Result<EventPage, BillingError> {
        self.access.operator(user)?;
        // One more than asked says whether another page follows.
        let mut events =
            store::inbox::list(self.pool(), outcome, event_type, page.size + 1, page.offset)
                .await?;
        let size = usize::try_from(page.size).unwrap_or(usize::MAX);
        let more = events.len() > size;
        events.truncate(size);
        Ok(EventPage { events, more })
    }

    /// Runs a stored event through the handler again; answers the stored event afterwards.
    pub(crate) async fn replay_stripe_event(
        &self,
        user: &str,
        event_id: &str,
    ) -> Result<(EventRow, Outcome), BillingError> {
        self.access.operator(user)?;
        let (event, result) = self.inbox.replay(event_id).await?;
        let row = store::inbox::event(self.pool(), &event.id)
            .await?
            .ok_or_else(|| BillingError::NotFound(format!("stored event {}", event.id)))?;
        Ok((row, result))
    }

    /// Copies Stripe's prices into the catalog (stripe provider only).
    pub(crate) async fn sync_stripe_prices(
        &self,
        user: &str,
        dry_run: bool,
    ) -> Result<catalog_sync::Synced, BillingError> {
        self.access.operator(user)?;
        let stripe = self.inbox.stripe.as_ref().ok_or_else(|| {
            BillingError::PermissionDenied("syncing prices needs the stripe provider".to_owned())
        })?;
        catalog_sync::run(self.pool(), stripe, user, dry_run).await
    }

    /// Compares the mirror with Stripe (`only`: one tenant) and repairs unless `dry_run`.
    pub(crate) async fn reconcile_with_stripe(
        &self,
        user: &str,
        dry_run: bool,
        only: Option<Uuid>,
    ) -> Result<Report, BillingError> {
        self.access.operator(user)?;
        self.reconciler.run(dry_run, only).await
    }
}
