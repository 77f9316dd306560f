//! Billing against real Postgres and real tonic servers: the webhook inbox, the version guard and the
//! outbox relay. One binary; each module is one area.

mod catalog;
mod catalog_setup;
mod delivery_log;
mod entitlements;
mod helpers;
mod ordering;
mod outbox;
mod precedence;
mod reconcile;
mod reconcile_version;
mod signatures;
mod usage;
mod webhooks;
