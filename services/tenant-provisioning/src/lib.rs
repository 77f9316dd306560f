//! Tenant provisioning: workspaces, memberships, invites, starter data and idempotent provisioning.
#![forbid(unsafe_code)]

pub mod client;
mod config;
mod domain;
mod error;
mod funnel;
mod grpc;
mod peers;
mod service;
mod startup;
mod store;

pub use config::{Config, StandaloneState};
pub use startup::Application;
