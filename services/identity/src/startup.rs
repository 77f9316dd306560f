//! Startup as a library: [`Application::build`] binds (port 0 in tests) and returns the
//! [`BoundService`] that reports its address and serves until stopped.

use onramp_kit::{
    mail::outbox::OutboxRelay,
    product_events::counts::ProductEventsApi,
    runtime::{BoundService, ServiceSpec},
};
use onramp_proto::identity::v1::identity_service_server::IdentityServiceServer;

use crate::{config::Config, grpc::IdentityApi, service::Identity};

/// The identity service's startup.
#[derive(Debug)]
pub struct Application;

impl Application {
    /// The bounded context's name, as it appears in logs, traces and `ServiceInfo`.
    pub const NAME: &'static str = "identity";

    /// Binds the gRPC listener and prepares a lazily connecting pool; nothing is served yet.
    pub async fn build(config: Config) -> anyhow::Result<BoundService> {
        let pool = onramp_kit::db::connect_lazy(&config.base.database)?;
        let identity = Identity::new(pool.clone(), &config)?;
        let relay = OutboxRelay::configured(
            pool.clone(),
            config.smtp.as_ref(),
            config.email_outbox_poll_interval,
            Self::NAME,
        )?;
        let events_api = ProductEventsApi::internal(pool.clone());
        let spec = ServiceSpec::new(Self::NAME, env!("CARGO_PKG_VERSION"), pool, &MIGRATOR)
            .serving(IdentityServiceServer::new(IdentityApi::new(identity)))
            .with_workers(relay.map(OutboxRelay::into_worker))
            .with_product_events(&config.base.product_events, events_api)?;
        BoundService::bind(spec, config.base.server).await
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();
