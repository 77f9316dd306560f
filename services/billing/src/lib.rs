//! Billing: plan catalog, Stripe customers and subscriptions, the webhook inbox, trials, entitlements and usage.
#![forbid(unsafe_code)]

mod checkout;
mod config;
mod domain;
mod entitle;
mod error;
mod grpc;
mod reconcile;
mod relay;
mod startup;
mod store;
mod stripe;
mod tenancy;
mod webhook;

pub use config::{Config, ProviderKind};
pub use startup::Application;
