//! All of billing's SQL, one module per table family.

pub(crate) mod catalog;
pub(crate) mod entitlements;
pub(crate) mod inbox;
pub(crate) mod outbox;
pub(crate) mod subscriptions;
pub(crate) mod usage;

/// A transaction on billing's database.
pub(crate) type Tx<'a> = sqlx::Transaction<'a, sqlx::Postgres>;
