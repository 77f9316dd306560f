//! Billing's use cases, independent of gRPC: entitlements, checkout and portal, the catalog, the
//! summary's facts, reconciliation and the Stripe price sync. The `grpc` module only converts.

pub(crate) mod catalog;
pub(crate) mod catalog_sync;
pub(crate) mod checkout;
pub(crate) mod entitle;
pub(crate) mod reconcile;
pub(crate) mod summary;
