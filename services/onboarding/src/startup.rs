//! Startup as a library: [`Application::build`] binds (port 0 in tests) and returns the
//! [`BoundService`] that reports its address and serves until stopped.

use onramp_kit::{
    mail::{outbox::OutboxRelay, smtp::SmtpSettings},
    product_events::counts::ProductEventsApi,
    runtime::{BoundService, ServiceSpec},
};
use onramp_proto::onboarding::v1::onboarding_service_server::OnboardingServiceServer;

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

/// The onboarding service's startup.
#[derive(Debug)]
pub struct Application;

impl Application {
    /// The bounded context's name, as it appears in logs, traces and `ServiceInfo`.
    pub const NAME: &'static str = "onboarding";

    /// Binds the gRPC listener and prepares a lazily connecting pool and peer channels; nothing is
    /// served yet. Fails in production when a secret or URL was left to its default.
    pub async fn build(config: Config) -> anyhow::Result<BoundService> {
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
        let smtp = SmtpSettings::when_set(config.smtp_url.as_ref(), &config.mail_from);
        let relay = OutboxRelay::configured(
            pool.clone(),
            smtp.as_ref(),
            config.mail_relay_interval,
            Self::NAME,
        )?;
        let events_api = ProductEventsApi::internal(pool.clone());
        let spec = ServiceSpec::new(Self::NAME, env!("CARGO_PKG_VERSION"), pool, &MIGRATOR)
            .serving(OnboardingServiceServer::new(OnboardingApi { service }))
            .with_workers(relay.map(OutboxRelay::into_worker))
            .with_product_events(&config.base.product_events, events_api)?;
        BoundService::bind(spec, config.base.server).await
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();
