//! What every Onramp service shares: configuration, telemetry, the gRPC server bootstrap and client
//! context (traces and deadlines), retries, the one error-code table, and Postgres.
#![forbid(unsafe_code)]

pub mod auth;
pub mod config;
pub mod db;
pub mod deadline;
pub mod error;
pub mod grpc;
pub mod mail;
pub mod metrics;
pub mod product_events;
pub mod retry;
pub mod runtime;
pub mod service_config;
pub mod service_info;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;

pub use deadline::Deadline;
pub use error::{ApiError, Code};
