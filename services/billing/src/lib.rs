//! Billing: plan catalog, Stripe customers and subscriptions, the webhook inbox, trials, entitlements and usage.
#![forbid(unsafe_code)]

mod config;
mod domain;
mod error;
mod funnel;
mod grpc;
mod peers;
mod relay;
mod service;
mod startup;
mod store;
mod stripe;
mod webhook;

pub use config::{Config, ProviderKind};
pub use service::catalog_sync::{setup_stripe_command, sync_prices_command};
pub use startup::Application;
