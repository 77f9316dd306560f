//! Tenant provisioning: workspaces, memberships, invites, starter data and idempotent provisioning.
#![forbid(unsafe_code)]

mod grpc;
mod startup;

pub use startup::{Application, Config};
