//! Startup as a library: [`Application::build`] binds (port 0 in tests) and returns the
//! [`BoundService`] that reports its address and serves until stopped.

use onramp_kit::{
    product_events::counts::ProductEventsApi,
    runtime::{BoundService, ServiceSpec, Worker},
};
use onramp_proto::billing::v1::billing_service_server::BillingServiceServer;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{
    config::{Config, ProviderKind},
    domain::trial::Thresholds,
    grpc::BillingApi,
    peers::Tenancy,
    relay::Relay,
    service::{
        Billing, access::Access, checkout::Checkout, entitle::Entitlements, reconcile::Reconciler,
    },
    stripe::StripeApi,
    webhook::{Inbox, group_commit::GroupCommit, rejections::RejectionTally, write::Writer},
};

/// The billing service's startup.
#[derive(Debug)]
pub struct Application;

impl Application {
    /// The bounded context's name, as it appears in logs, traces and `ServiceInfo`.
    pub const NAME: &'static str = "billing";

    /// Binds the gRPC listener and prepares a lazily connecting pool; nothing is served yet.
    /// Serving relays the outbox and runs the sweeps.
    pub async fn build(config: Config) -> anyhow::Result<BoundService> {
        let provider = config.provider()?;
        let pool = onramp_kit::db::connect_lazy(&config.base.database)?;
        let stripe = match (provider, &config.stripe_secret_key) {
            (ProviderKind::Stripe, Some(key)) => {
                Some(StripeApi::new(&config.stripe_api_base, key.clone())?)
            }
            _ => None,
        };
        tracing::info!(
            ?provider,
            webhook_secrets = config.stripe_webhook_secrets.len(),
            "billing provider"
        );
        let inbox = Inbox {
            pool: pool.clone(),
            secrets: config.stripe_webhook_secrets.clone(),
            connect_secrets: config.stripe_connect_webhook_secrets.clone(),
            stripe: stripe.clone(),
            rejections: RejectionTally::default(),
            group: GroupCommit::start(&Writer {
                pool: pool.clone(),
                stripe: stripe.clone(),
            }),
        };
        let rejections = inbox.rejections.clone();
        let tenancy = Tenancy::new(config.tenant_provisioning_service_addr.as_deref())?;
        let reconciler = Reconciler {
            pool: pool.clone(),
            stripe: stripe.clone(),
            tenancy: tenancy.clone(),
            orphan_grace: config.reconcile_orphan_grace,
        };
        let checkout = Checkout {
            pool: pool.clone(),
            stripe,
        };
        let service = Billing {
            entitlements: Entitlements {
                pool: pool.clone(),
                provider,
                default_plan: config.billing_default_plan.clone(),
                cache: Default::default(),
            },
            access: Access {
                tenancy,
                operators: config.billing_operator_user_ids.clone(),
            },
            inbox,
            provider,
            checkout,
            reconciler: reconciler.clone(),
            app_url: config.billing_app_url.clone(),
            thresholds: Thresholds {
                warning_days: config.trial_warning_days,
                urgent_days: config.trial_urgent_days,
            },
        };
        // The funnel's counts are operators' business: the same operators as the admin catalog.
        let events_api =
            ProductEventsApi::operators_only(pool.clone(), service.access.operators.clone());
        let relay = Relay::new(
            pool.clone(),
            config.tenant_provisioning_service_addr.as_deref(),
            config.onboarding_service_addr.as_deref(),
            config.outbox_poll_interval,
            config.outbox_max_backoff,
        )?;
        let (expiry_interval, reconcile_interval) =
            (config.expiry_sweep_interval, config.reconcile_interval);
        let expiring = pool.clone();
        let tallied = pool.clone();
        // Each stops as draining starts, while the pool is still open (it closes when serving
        // ends): the rejection tally's last flush must reach the table.
        let workers = [
            Worker::new("outbox relay", move |stop| relay.run(stop)),
            Worker::new("rejection tally", move |stop| rejections.run(tallied, stop)),
            Worker::new("expiry sweep", move |stop| {
                expiry_sweep(expiring, expiry_interval, stop)
            }),
            Worker::new("reconciliation", move |stop| {
                periodic_reconciliation(reconciler, reconcile_interval, stop)
            }),
        ];
        let spec = ServiceSpec::new(Self::NAME, env!("CARGO_PKG_VERSION"), pool, &MIGRATOR)
            .serving(BillingServiceServer::new(BillingApi { service }))
            .with_workers(workers)
            .with_product_events(&config.base.product_events, events_api)?;
        BoundService::bind(spec, config.base.server).await
    }
}

/// Ends card-less trials and complimentary grants that ran out, every `interval`.
async fn expiry_sweep(pool: PgPool, interval: std::time::Duration, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        match crate::store::entitlements::expire_due(&pool).await {
            Ok(0) => {}
            Ok(ended) => tracing::info!(ended, "entitlements ended"),
            Err(error) => tracing::warn!(error = %error, "expiry sweep failed"),
        }
    }
}

/// Runs reconciliation every `interval` (stripe provider only), logging what it repaired.
async fn periodic_reconciliation(
    reconciler: Reconciler,
    interval: std::time::Duration,
    stop: CancellationToken,
) {
    if reconciler.stripe.is_none() || interval.is_zero() {
        return;
    }
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        match reconciler.run(false, None).await {
            Ok(report) => tracing::info!(
                checked = report.checked,
                drifts = report.drifts.len(),
                orphan_tenants = ?report.orphans,
                "reconciliation run"
            ),
            Err(error) => tracing::warn!(error = %error, "reconciliation run failed"),
        }
    }
}

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();
