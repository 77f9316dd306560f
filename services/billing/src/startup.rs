//! Startup as a library: [`Application::build`] binds (port 0 in tests), [`Application::run_until_stopped`] serves.

use std::net::SocketAddr;

use onramp_kit::{
    grpc::server::GrpcServer,
    runtime::{self, ServiceSpec},
    service_config::ServiceConfig,
};
use onramp_proto::billing::v1::billing_service_server::BillingServiceServer;
use serde::Deserialize;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tonic::{server::NamedService, service::Routes};

use crate::grpc::BillingApi;

/// The billing service's configuration (environment variables, see the README).
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Listen address, database and telemetry, shared by every service.
    #[serde(flatten)]
    pub base: ServiceConfig,
}

impl Config {
    /// A config with defaults for everything beyond the shared part.
    pub fn new(base: ServiceConfig) -> Self {
        Self { base }
    }
}

/// The billing service, bound and ready to run.
#[derive(Debug)]
pub struct Application {
    server: GrpcServer,
    pool: PgPool,
}

impl Application {
    /// The bounded context's name, as it appears in logs, traces and `ServiceInfo`.
    pub const NAME: &'static str = "billing";

    /// Binds the gRPC listener and prepares a lazily connecting pool; nothing is served yet.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = onramp_kit::db::connect_lazy(&config.base.database)?;
        let server = GrpcServer::bind(Self::NAME, config.base.server).await?;
        Ok(Self { server, pool })
    }

    /// Where the gRPC server listens.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.server.local_addr()
    }

    /// Migrates, serves until `shutdown` fires, then drains.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let api = BillingServiceServer::new(BillingApi::new(self.pool.clone()));
        let spec = ServiceSpec {
            name: Self::NAME,
            version: env!("CARGO_PKG_VERSION"),
            grpc_names: &[<BillingServiceServer<BillingApi> as NamedService>::NAME],
            pool: self.pool,
            migrator: &MIGRATOR,
        };
        runtime::run(self.server, spec, Routes::new(api), shutdown).await
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();
