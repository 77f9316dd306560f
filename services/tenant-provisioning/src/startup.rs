//! Startup as a library: [`Application::build`] binds (port 0 in tests) and returns the
//! [`BoundService`] that reports its address and serves until stopped.

use std::{sync::Arc, time::Duration};

use onramp_kit::{
    grpc::client,
    mail::outbox::OutboxRelay,
    product_events::counts::ProductEventsApi,
    runtime::{BoundService, ServiceSpec, Worker},
};
use onramp_proto::tenancy::v1::tenancy_service_server::TenancyServiceServer;
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    grpc::TenancyApi,
    peers::{
        BillingEntitlements, Entitlements, FixedEntitlements, IdentityDirectory, NoDirectory,
        UserDirectory,
    },
    service::{Settings, Tenancy},
};

/// The tenant-provisioning service's startup.
#[derive(Debug)]
pub struct Application;

impl Application {
    /// The bounded context's name, as it appears in logs, traces and `ServiceInfo`.
    pub const NAME: &'static str = "tenant-provisioning";

    /// Binds the gRPC listener, loads the starter template and prepares lazily connecting clients;
    /// nothing is served yet. Serving sweeps periodically and relays the email outbox.
    pub async fn build(config: Config) -> anyhow::Result<BoundService> {
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
            pool: pool.clone(),
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
            pool.clone(),
            config.smtp().as_ref(),
            config.outbox_poll_interval,
            Self::NAME,
        )?;
        let sweeper = {
            let (service, interval, retention) = (
                service.clone(),
                config.sweep_interval,
                config.idempotency_retention,
            );
            Worker::new("sweep", move |stop| {
                sweep_periodically(service, interval, retention, stop)
            })
        };
        let events_api = ProductEventsApi::internal(pool.clone());
        let spec = ServiceSpec::new(Self::NAME, env!("CARGO_PKG_VERSION"), pool, &MIGRATOR)
            .serving(TenancyServiceServer::new(TenancyApi::new(service)))
            .with_workers([sweeper])
            .with_workers(relay.map(OutboxRelay::into_worker))
            .with_product_events(&config.base.product_events, events_api)?;
        BoundService::bind(spec, config.base.server).await
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
