//! Startup as a library: [`Application::build`] binds (port 0 in tests), [`Application::run_until_stopped`] serves.

use std::net::SocketAddr;

use onramp_kit::{
    grpc::server::GrpcServer,
    mail::outbox::OutboxRelay,
    product_events::{counts::ProductEventsApi, settings::ProductEventSettings},
    runtime::{self, ServiceSpec},
};
use onramp_proto::identity::v1::identity_service_server::IdentityServiceServer;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::{config::Config, grpc::IdentityApi, service::Identity};

/// The identity service, bound and ready to run.
#[derive(Debug)]
pub struct Application {
    server: GrpcServer,
    pool: PgPool,
    identity: Identity,
    relay: Option<OutboxRelay>,
    product_events: ProductEventSettings,
}

impl Application {
    /// The bounded context's name, as it appears in logs, traces and `ServiceInfo`.
    pub const NAME: &'static str = "identity";

    /// Binds the gRPC listener and prepares a lazily connecting pool; nothing is served yet.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = onramp_kit::db::connect_lazy(&config.base.database)?;
        let identity = Identity::new(pool.clone(), &config)?;
        let relay = OutboxRelay::configured(
            pool.clone(),
            config.smtp.as_ref(),
            config.email_outbox_poll_interval,
            Self::NAME,
        )?;
        let server = GrpcServer::bind(Self::NAME, config.base.server).await?;
        Ok(Self {
            server,
            pool,
            identity,
            relay,
            product_events: config.base.product_events,
        })
    }

    /// Where the gRPC server listens.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.server.local_addr()
    }

    /// Migrates, serves until `shutdown` fires, then drains.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let events_api = ProductEventsApi::internal(self.pool.clone());
        let api = IdentityServiceServer::new(IdentityApi::new(self.identity));
        let spec = ServiceSpec::new(Self::NAME, env!("CARGO_PKG_VERSION"), self.pool, &MIGRATOR)
            .serving::<IdentityServiceServer<IdentityApi>>()
            .with_workers(self.relay.map(OutboxRelay::into_worker))
            .with_product_events(&self.product_events, events_api)?;
        runtime::run(self.server, spec, Routes::new(api), shutdown).await
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();
