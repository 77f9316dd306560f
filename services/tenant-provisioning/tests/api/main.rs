//! Tenancy's gRPC API against a real server on an ephemeral port and a fresh, real Postgres database
//! per test. Billing is not in these tests: the service runs without `BILLING_SERVICE_ADDR` (its
//! standalone mode), and lifecycle changes arrive through its own ApplyBillingEvent RPC, as billing's
//! relay will send them.

mod helpers;
mod invite_limits;
mod invites;
mod lifecycle;
mod members;
mod provisioning;
mod sweep;
