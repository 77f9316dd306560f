//! Billing's use cases, independent of gRPC: entitlements, checkout and portal, the catalog, the
//! summary's facts, reconciliation and the Stripe price sync. Caller, membership and operator checks
//! run here, first; the `grpc` module only converts.

pub(crate) mod access;
pub(crate) mod catalog;
pub(crate) mod catalog_sync;
pub(crate) mod checkout;
pub(crate) mod entitle;
pub(crate) mod operations;
pub(crate) mod payments;
pub(crate) mod reconcile;
pub(crate) mod summary;
pub(crate) mod tenant;

use crate::{config::ProviderKind, domain::trial::Thresholds, webhook::Inbox};

/// The use cases, wired to storage, Stripe and tenancy.
#[derive(Debug, Clone)]
pub(crate) struct Billing {
    pub(crate) inbox: Inbox,
    pub(crate) entitlements: entitle::Entitlements,
    pub(crate) access: access::Access,
    pub(crate) provider: ProviderKind,
    pub(crate) thresholds: Thresholds,
    pub(crate) checkout: checkout::Checkout,
    pub(crate) reconciler: reconcile::Reconciler,
    /// The browser app's base URL: return URLs must stay under it.
    pub(crate) app_url: String,
}

impl Billing {
    pub(crate) fn pool(&self) -> &sqlx::PgPool {
        &self.inbox.pool
    }
}
