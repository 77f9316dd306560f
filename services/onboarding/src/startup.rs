//! Startup as a library: [`Application::build`] binds (port 0 in tests), [`Application::run_until_stopped`] serves.

use std::net::SocketAddr;

use onramp_kit::{
    grpc::server::GrpcServer,
    mail::{outbox::OutboxRelay, smtp::SmtpSettings},
    product_events::{counts::ProductEventsApi, settings::ProductEventSettings},
    runtime::{self, ServiceSpec},
};
use onramp_proto::onboarding::v1::onboarding_service_server::OnboardingServiceServer;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::{
    config::Config,
    domain::steps::Steps,
    grpc::OnboardingApi,
    peers::Peers,
    service::{
        Onboarding,
        checklist::Checklist,
        connect::{Connect, ConnectSettings},
        leads::Leads,
    },
    stripe::{StripeConnect, StripeSettings},
};

/// The onboarding service, bound and ready to run.
#[derive(Debug)]
pub struct Application {
    server: GrpcServer,
    pool: PgPool,
    api: OnboardingApi,
    relay: Option<OutboxRelay>,
    product_events: ProductEventSettings,
}

impl Application {
    /// The bounded context's name, as it appears in logs, traces and `ServiceInfo`.
    pub const NAME: &'static str = "onboarding";

    /// Binds the gRPC listener and prepares a lazily connecting pool and peer channels; nothing is
    /// served yet. Fails in production when a secret or URL was left to its default.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let resolved = config.resolve(onramp_kit::config::is_production())?;
        onramp_kit::tls::install_crypto_provider();
        let pool = onramp_kit::db::connect_lazy(&config.base.database)?;
        let stripe = StripeConnect::new(&StripeSettings {
            secret_key: config.stripe_secret_key.clone(),
            api_base: config.stripe_api_base.clone(),
            timeout: config.stripe_timeout,
        })?;
        let connect = Connect::new(
            pool.clone(),
            stripe,
            ConnectSettings {
                return_url: resolved.return_url,
                refresh_url: resolved.refresh_url,
                token_ttl: config.connect_token_ttl,
                state_ttl: config.connect_state_ttl,
                return_read_timeout: config.connect_return_read_timeout,
            },
        );
        let peers = Peers::connect(
            &config.identity_service_addr,
            &config.tenant_provisioning_service_addr,
            &config.billing_service_addr,
        )?;
        let steps = match &config.checklist_custom_steps {
            Some(json) => Steps::from_json(json)?,
            None => Steps::default(),
        };
        let service = Onboarding {
            checklist: Checklist::new(
                pool.clone(),
                peers.clone(),
                config.checklist_peer_timeout,
                steps,
            ),
            connect,
            leads: Leads::new(
                pool.clone(),
                config.sales_leads_per_hour,
                resolved.sales_notification_address,
            ),
            peers,
        };
        let api = OnboardingApi { service };
        let smtp = SmtpSettings::when_set(config.smtp_url.as_ref(), &config.mail_from);
        let relay = OutboxRelay::configured(
            pool.clone(),
            smtp.as_ref(),
            config.mail_relay_interval,
            Self::NAME,
        )?;
        let server = GrpcServer::bind(Self::NAME, config.base.server).await?;
        Ok(Self {
            server,
            pool,
            api,
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
        let api = OnboardingServiceServer::new(self.api);
        let spec = ServiceSpec::new(Self::NAME, env!("CARGO_PKG_VERSION"), self.pool, &MIGRATOR)
            .serving::<OnboardingServiceServer<OnboardingApi>>()
            .with_workers(self.relay.map(OutboxRelay::into_worker))
            .with_product_events(&self.product_events, events_api)?;
        runtime::run(self.server, spec, Routes::new(api), shutdown).await
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();
