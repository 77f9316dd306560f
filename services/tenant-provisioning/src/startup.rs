//! Startup as a library: [`Application::build`] binds (port 0 in tests), [`Application::run_until_stopped`] serves.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use onramp_kit::{
    grpc::{client, server::GrpcServer},
    mail::outbox::OutboxRelay,
    product_events::{counts::ProductEventsApi, settings::ProductEventSettings},
    runtime::{self, ServiceSpec, Worker},
};
use onramp_proto::tenancy::v1::tenancy_service_server::TenancyServiceServer;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::{
    config::Config,
    grpc::TenancyApi,
    peers::{
        BillingEntitlements, Entitlements, FixedEntitlements, IdentityDirectory, NoDirectory,
        UserDirectory,
    },
    service::{Settings, Tenancy},
};

/// The tenant-provisioning service, bound and ready to run.
#[derive(Debug)]
pub struct Application {
    server: GrpcServer,
    service: Tenancy,
    sweep_interval: Duration,
    idempotency_retention: Duration,
    relay: Option<OutboxRelay>,
    product_events: ProductEventSettings,
}

impl Application {
    /// The bounded context's name, as it appears in logs, traces and `ServiceInfo`.
    pub const NAME: &'static str = "tenant-provisioning";

    /// Binds the gRPC listener, loads the starter template and prepares lazily connecting clients;
    /// nothing is served yet.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = onramp_kit::db::connect_lazy(&config.base.database)?;
        let entitlements: Arc<dyn Entitlements> = match &config.billing_service_addr {
            Some(addr) => Arc::new(BillingEntitlements::new(client::traced(client::channel(
                addr,
            )?))),
            None => Arc::new(FixedEntitlements {
                state: config.standalone_state(),
                seats: config.standalone_seat_limit.map(i64::from),
            }),
        };
        let users: Arc<dyn UserDirectory> = match &config.identity_service_addr {
            Some(addr) => Arc::new(IdentityDirectory::new(client::traced(client::channel(
                addr,
            )?))),
            None => Arc::new(NoDirectory),
        };
        let service = Tenancy {
            pool,
            entitlements,
            users,
            template: Arc::new(config.template()?),
            settings: Arc::new(Settings {
                payment_retry_after: config.payment_retry_after,
                invite_validity: config.invite_validity,
                pending_payment_threshold: config.pending_payment_threshold,
                operators: config.operators()?,
                invite_link_base: config.invite_link_base.clone(),
            }),
        };
        let relay = OutboxRelay::configured(
            service.pool.clone(),
            config.smtp().as_ref(),
            config.outbox_poll_interval,
            Self::NAME,
        )?;
        let server = GrpcServer::bind(Self::NAME, config.base.server).await?;
        Ok(Self {
            relay,
            server,
            service,
            sweep_interval: config.sweep_interval,
            idempotency_retention: config.idempotency_retention,
            product_events: config.base.product_events,
        })
    }

    /// Where the gRPC server listens.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.server.local_addr()
    }

    /// Migrates, serves (sweeping periodically and relaying the email outbox) until `shutdown` fires, then drains.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let sweeper = {
            let (service, interval, retention) = (
                self.service.clone(),
                self.sweep_interval,
                self.idempotency_retention,
            );
            Worker::new("sweep", move |stop| {
                sweep_periodically(service, interval, retention, stop)
            })
        };
        let pool: PgPool = self.service.pool.clone();
        let events_api = ProductEventsApi::internal(pool.clone());
        let api = TenancyServiceServer::new(TenancyApi::new(self.service));
        let spec = ServiceSpec::new(Self::NAME, env!("CARGO_PKG_VERSION"), pool, &MIGRATOR)
            .serving::<TenancyServiceServer<TenancyApi>>()
            .with_workers([sweeper])
            .with_workers(self.relay.map(OutboxRelay::into_worker))
            .with_product_events(&self.product_events, events_api)?;
        runtime::run(self.server, spec, Routes::new(api), shutdown).await
    }
}

/// How often `onramp_tenants` is recounted.
const TENANT_COUNT_INTERVAL: Duration = Duration::from_secs(15);

/// The background task: the sweep every `interval` and the tenant count every
/// [`TENANT_COUNT_INTERVAL`] (each first after one interval).
async fn sweep_periodically(
    service: Tenancy,
    interval: Duration,
    retention: Duration,
    shutdown: CancellationToken,
) {
    let start = tokio::time::Instant::now();
    let mut sweep = tokio::time::interval_at(start + interval, interval);
    let mut count = tokio::time::interval_at(start + TENANT_COUNT_INTERVAL, TENANT_COUNT_INTERVAL);
    for timer in [&mut sweep, &mut count] {
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    }
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = sweep.tick() => {
                if let Err(error) = service.periodic_sweep(retention).await {
                    tracing::warn!(error = %error, "the periodic sweep failed; it runs again next interval");
                }
            }
            _ = count.tick() => {
                if let Err(error) = service.count_tenants().await {
                    tracing::debug!(error = %error, "counting tenants failed; it runs again next interval");
                }
            }
        }
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();
