//! The configuration every service shares; each service flattens it into its own `Config`.

use serde::Deserialize;

use crate::{db::DatabaseSettings, grpc::server::ServerSettings, telemetry::TelemetryConfig};

/// Listen address, database and telemetry: the part of a service's config that is the same everywhere.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceConfig {
    /// gRPC listener, RPC timeout cap and drain period.
    #[serde(flatten)]
    pub server: ServerSettings,
    /// The service's own database.
    #[serde(flatten)]
    pub database: DatabaseSettings,
    /// Log format and OTLP export.
    #[serde(flatten)]
    pub telemetry: TelemetryConfig,
}

impl ServiceConfig {
    /// A config for an in-process service on `listen`, using `database_url`, with default settings.
    pub fn new(listen: std::net::SocketAddr, database_url: impl Into<String>) -> Self {
        Self {
            server: ServerSettings {
                grpc_listen_addr: listen,
                ..ServerSettings::default()
            },
            database: DatabaseSettings::new(database_url),
            telemetry: TelemetryConfig::default(),
        }
    }
}
