//! Billing: plan catalog, Stripe customers and subscriptions, the webhook inbox, trials, entitlements and usage.
#![forbid(unsafe_code)]

mod catalog_sync;
mod checkout;
mod config;
mod domain;
mod entitle;
mod error;
mod grpc;
mod peers;
mod reconcile;
mod relay;
mod startup;
mod store;
mod stripe;
mod webhook;

pub use catalog_sync::{setup_stripe_command, sync_prices_command};
pub use config::{Config, ProviderKind};
pub use startup::Application;
