//! Billing: plan catalog, Stripe customers and subscriptions, the webhook inbox, trials, entitlements and usage.
#![forbid(unsafe_code)]

mod grpc;
mod startup;

pub use startup::{Application, Config};
