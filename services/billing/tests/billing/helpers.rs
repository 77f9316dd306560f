//! The harness: billing (and a real tenancy server for its relay to call) on ephemeral ports, each on
//! a fresh, uniquely named database that the test drops when it stops.

use std::{
    net::{Ipv4Addr, SocketAddr},
    time::{Duration, Instant},
};

use onramp_billing::{Application, Config};
use onramp_kit::{config::SecretString, db, service_config::ServiceConfig};
use onramp_proto::billing::v1::{
    HandleStripeWebhookRequest, HandleStripeWebhookResponse,
    billing_service_client::BillingServiceClient,
};
use serde_json::json;
use sqlx::{PgPool, postgres::PgConnectOptions};
use stripe_webhook::Webhook;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use uuid::Uuid;

/// The webhook signing secret every test billing is configured with (generated per process).
pub(crate) fn secret() -> String {
    static SECRET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SECRET
        .get_or_init(|| format!("whsec_{}", Uuid::new_v4().simple()))
        .clone()
}

fn server() -> PgConnectOptions {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    url.parse().expect("DATABASE_URL")
}

fn url_for(database: &str) -> String {
    let options = server();
    format!(
        "postgres://{}@{}:{}/{database}",
        options.get_username(),
        options.get_host(),
        options.get_port()
    )
}

struct Running {
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

/// Billing plus tenancy, running.
pub(crate) struct TestBilling {
    pub(crate) client: BillingServiceClient<Channel>,
    /// Billing's own database (tests inspect it and inject failures into it).
    pub(crate) db: PgPool,
    /// The config billing runs with (for commands that run beside the service).
    pub(crate) config: Config,
    databases: Vec<String>,
    running: Vec<Running>,
}

impl TestBilling {
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts tenancy, then billing configured with the test secret, tenancy's address, a fast relay and
    /// whatever `adjust` changes.
    pub(crate) async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let prefix = format!("onramp_test_{}", &Uuid::new_v4().simple().to_string()[..12]);
        let billing_db = format!("{prefix}_billing");
        let tenancy_db = format!("{prefix}_tenancy");
        for name in [&billing_db, &tenancy_db] {
            db::ensure_database(&server(), name)
                .await
                .expect("create database");
        }
        let local = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let base = |database: &str| {
            let mut base = ServiceConfig::new(local, url_for(database));
            base.server.drain_period = Duration::from_millis(50);
            base
        };
        let tenancy = onramp_tenant_provisioning::Application::build(
            onramp_tenant_provisioning::Config::new(base(&tenancy_db)),
        )
        .await
        .expect("tenancy builds");
        let tenancy_addr = tenancy.local_addr().expect("addr");
        let tenancy_stop = CancellationToken::new();
        let tenancy_task = tokio::spawn(tenancy.run_until_stopped(tenancy_stop.clone()));

        let mut config = Config::new(base(&billing_db));
        config.stripe_webhook_secrets = vec![SecretString::from(secret())];
        config.stripe_connect_webhook_secrets = vec![SecretString::from(secret())];
        config.tenant_provisioning_service_addr = Some(format!("http://{tenancy_addr}"));
        config.outbox_poll_interval = Duration::from_millis(50);
        config.outbox_max_backoff = Duration::from_millis(200);
        adjust(&mut config);
        let app = Application::build(config.clone())
            .await
            .expect("billing builds");
        let addr = app.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(stop.clone()));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect_lazy();
        wait_serving(channel.clone()).await;
        let db = PgPool::connect_with(server().database(&billing_db))
            .await
            .expect("billing database");
        Self {
            client: BillingServiceClient::new(channel),
            db,
            config,
            databases: vec![billing_db, tenancy_db],
            running: vec![
                Running { stop, task },
                Running {
                    stop: tenancy_stop,
                    task: tenancy_task,
                },
            ],
        }
    }

    /// Delivers `payload` signed with the test secret, as the gateway would.
    pub(crate) async fn deliver(
        &self,
        payload: &str,
    ) -> Result<HandleStripeWebhookResponse, tonic::Status> {
        let signature = Webhook::generate_test_header(payload, &secret(), None);
        self.deliver_signed(payload.as_bytes(), &signature).await
    }

    /// Delivers `payload` with the given Stripe-Signature.
    pub(crate) async fn deliver_signed(
        &self,
        payload: &[u8],
        signature: &str,
    ) -> Result<HandleStripeWebhookResponse, tonic::Status> {
        let request = HandleStripeWebhookRequest {
            caller: None,
            payload: payload.to_vec(),
            stripe_signature: signature.to_owned(),
            headers: [("content-type".to_owned(), "application/json".to_owned())].into(),
            connect: false,
        };
        self.client
            .clone()
            .handle_stripe_webhook(request)
            .await
            .map(tonic::Response::into_inner)
    }

    /// A count from billing's database.
    pub(crate) async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.db)
            .await
            .expect(sql)
    }

    /// Stops both services and drops the databases this test created (and only those).
    pub(crate) async fn stop(self) {
        self.db.close().await;
        for running in self.running {
            running.stop.cancel();
            running.task.await.expect("join").expect("clean stop");
        }
        for name in &self.databases {
            db::drop_database(&server(), name)
                .await
                .expect("drop database");
        }
    }
}

async fn wait_serving(channel: Channel) {
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let start = Instant::now();
    loop {
        let request = tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        };
        if let Ok(response) = health.check(request).await
            && response.into_inner().status == 1
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "billing never became ready"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Polls `check` until it holds (bounded).
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A fresh Stripe-looking id.
pub(crate) fn stripe_id(prefix: &str) -> String {
    format!("{prefix}_{}", &Uuid::new_v4().simple().to_string()[..16])
}

/// A subscription event (`customer.subscription.*`) for `tenant`.
pub(crate) fn subscription_event(
    event_id: &str,
    kind: &str,
    created: i64,
    subscription: &str,
    status: &str,
    tenant: Uuid,
) -> String {
    json!({
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": created,
        "livemode": false,
        "data": {"object": {
            "id": subscription,
            "object": "subscription",
            "customer": "cus_test",
            "status": status,
            "metadata": {"tenant_id": tenant.to_string()},
            "cancel_at_period_end": false,
            "items": {"object": "list", "data": [{
                "price": {"id": "price_test"},
                "quantity": 3,
                "current_period_end": created + 2_592_000,
            }]},
        }},
    })
    .to_string()
}

/// A `checkout.session.completed` event for `tenant`.
pub(crate) fn checkout_completed(
    event_id: &str,
    created: i64,
    subscription: &str,
    tenant: Uuid,
) -> String {
    json!({
        "id": event_id,
        "object": "event",
        "type": "checkout.session.completed",
        "created": created,
        "data": {"object": {
            "id": stripe_id("cs"),
            "object": "checkout.session",
            "customer": stripe_id("cus"),
            "subscription": subscription,
            "client_reference_id": tenant.to_string(),
            "payment_status": "paid",
            "mode": "subscription",
        }},
    })
    .to_string()
}

/// The time tests use as Stripe's clock for `created` (any fixed point works: only order matters).
pub(crate) const T0: i64 = 1_790_000_000;
