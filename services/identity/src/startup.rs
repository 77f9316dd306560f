//! Startup as a library: [`Application::build`] binds (port 0 in tests), [`Application::run_until_stopped`] serves.

use std::net::SocketAddr;

use onramp_kit::{
    grpc::server::GrpcServer,
    runtime::{self, ServiceSpec},
};
use onramp_proto::identity::v1::identity_service_server::IdentityServiceServer;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tonic::{server::NamedService, service::Routes};

use crate::{config::Config, grpc::IdentityApi, service::Identity};

/// The identity service, bound and ready to run.
#[derive(Debug)]
pub struct Application {
    server: GrpcServer,
    pool: PgPool,
    identity: Identity,
}

impl Application {
    /// The bounded context's name, as it appears in logs, traces and `ServiceInfo`.
    pub const NAME: &'static str = "identity";

    /// Binds the gRPC listener and prepares a lazily connecting pool; nothing is served yet.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = onramp_kit::db::connect_lazy(&config.base.database)?;
        let identity = Identity::new(pool.clone(), &config)?;
        let server = GrpcServer::bind(Self::NAME, config.base.server).await?;
        Ok(Self {
            server,
            pool,
            identity,
        })
    }

    /// Where the gRPC server listens.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.server.local_addr()
    }

    /// Migrates, serves until `shutdown` fires, then drains.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let api = IdentityServiceServer::new(IdentityApi::new(self.identity));
        let spec = ServiceSpec {
            name: Self::NAME,
            version: env!("CARGO_PKG_VERSION"),
            grpc_names: &[<IdentityServiceServer<IdentityApi> as NamedService>::NAME],
            pool: self.pool,
            migrator: &MIGRATOR,
        };
        runtime::run(self.server, spec, Routes::new(api), shutdown).await
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();
