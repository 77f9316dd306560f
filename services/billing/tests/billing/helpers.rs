//! The harness: billing (and a real tenancy server for its relay to call) on ephemeral ports, each on
//! a fresh, uniquely named database that the test drops when it stops.

use std::time::Duration;

use onramp_billing::{Application, Config};
pub(crate) use onramp_kit::testing::{caller, eventually};
use onramp_kit::{
    ApiError, Code,
    config::SecretString,
    testing::{self, RunningService, TestDatabase, serving_channel},
};
use onramp_proto::billing::v1::{
    GetPlanCatalogRequest, GetPlanCatalogResponse, HandleStripeWebhookRequest,
    HandleStripeWebhookResponse, Plan, PutPlanCatalogRequest, PutPlanCatalogResponse,
    billing_service_client::BillingServiceClient,
};
use serde_json::json;
use sqlx::{Encode, FromRow, PgPool, Postgres, Type, postgres::PgRow};
use stripe_webhook::Webhook;
use tonic::transport::Channel;
use uuid::Uuid;

/// The webhook signing secret every test billing is configured with (generated per process).
pub(crate) fn secret() -> String {
    static SECRET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SECRET
        .get_or_init(|| format!("whsec_{}", Uuid::new_v4().simple()))
        .clone()
}

/// Billing plus tenancy, running.
pub(crate) struct TestBilling {
    pub(crate) client: BillingServiceClient<Channel>,
    /// Billing's own database (tests inspect it and inject failures into it).
    pub(crate) db: PgPool,
    /// The config billing runs with (for commands that run beside the service).
    pub(crate) config: Config,
    databases: Vec<TestDatabase>,
    running: Vec<RunningService>,
}

impl TestBilling {
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Billing with one operator (whose user id is returned) and whatever `adjust` changes.
    pub(crate) async fn with_operator(
        adjust: impl FnOnce(&mut Config) + Send + 'static,
    ) -> (Self, String) {
        let operator = Uuid::new_v4().to_string();
        let op = operator.clone();
        let app = Self::spawn_with(move |config| {
            config.billing_operator_user_ids = vec![op];
            adjust(config);
        })
        .await;
        (app, operator)
    }

    /// Billing whose tenancy address is a closed port: every call to tenancy fails to connect.
    pub(crate) async fn with_unreachable_tenancy() -> Self {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port");
        Self::spawn_with(move |config| {
            config.tenant_provisioning_service_addr = Some(format!("http://{closed}"));
        })
        .await
    }

    /// Runs `sql` on billing's database to make later writes fail (a trigger, say), or, once the
    /// test is done with it, to remove that failure again.
    pub(crate) async fn inject_failure(&self, sql: &str) {
        sqlx::raw_sql(sql).execute(&self.db).await.expect(sql);
    }

    /// The whole plan catalog, as `operator` reads it.
    pub(crate) async fn catalog(&self, operator: &str) -> GetPlanCatalogResponse {
        self.client
            .clone()
            .get_plan_catalog(GetPlanCatalogRequest {
                caller: caller(operator),
            })
            .await
            .expect("catalog")
            .into_inner()
    }

    /// `operator` replaces the plan catalog (at `expected_version`) with `plans`.
    pub(crate) async fn put_catalog(
        &self,
        operator: &str,
        expected_version: i64,
        plans: Vec<Plan>,
    ) -> Result<PutPlanCatalogResponse, tonic::Status> {
        self.client
            .clone()
            .put_plan_catalog(PutPlanCatalogRequest {
                caller: caller(operator),
                expected_version,
                plans,
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// Starts tenancy, then billing configured with the test secret, tenancy's address, a fast relay and
    /// whatever `adjust` changes.
    pub(crate) async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let billing_db = TestDatabase::create("billing").await;
        let tenancy_db = TestDatabase::create("tenancy").await;
        let tenancy = onramp_tenant_provisioning::Application::build(
            onramp_tenant_provisioning::Config::new(tenancy_db.service_config()),
        )
        .await
        .expect("tenancy builds");
        let tenancy_addr = tenancy.local_addr().expect("addr");
        let tenancy = RunningService::spawn(|stop| tenancy.run_until_stopped(stop));

        let mut config = Config::new(billing_db.service_config());
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
        let billing = RunningService::spawn(|stop| app.run_until_stopped(stop));
        let channel = serving_channel(addr, "billing").await;
        let db = billing_db.connect().await;
        Self {
            client: BillingServiceClient::new(channel),
            db,
            config,
            databases: vec![billing_db, tenancy_db],
            running: vec![billing, tenancy],
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
        testing::count(&self.db, sql).await
    }

    /// The row `sql` selects with `key` as `$1`.
    pub(crate) async fn row<'q, T, K>(&self, sql: &'q str, key: K) -> T
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
        K: 'q + Send + Encode<'q, Postgres> + Type<Postgres>,
    {
        sqlx::query_as(sql)
            .bind(key)
            .fetch_one(&self.db)
            .await
            .expect(sql)
    }

    /// The value `sql` selects with `key` as `$1` (`None`: no row).
    pub(crate) async fn value<'q, T, K>(&self, sql: &'q str, key: K) -> Option<T>
    where
        (T,): for<'r> FromRow<'r, PgRow>,
        T: Send + Unpin,
        K: 'q + Send + Encode<'q, Postgres> + Type<Postgres>,
    {
        sqlx::query_scalar(sql)
            .bind(key)
            .fetch_optional(&self.db)
            .await
            .expect(sql)
    }

    /// Stops both services and drops the databases this test created (and only those).
    pub(crate) async fn stop(self) {
        self.db.close().await;
        for running in self.running {
            running.stop().await;
        }
        for database in self.databases {
            database.remove().await;
        }
    }
}

/// A fresh Stripe-looking id.
pub(crate) fn stripe_id(prefix: &str) -> String {
    format!("{prefix}_{}", &Uuid::new_v4().simple().to_string()[..16])
}

/// Points `config` at a Stripe stand-in at `base`, with secret key `key`.
pub(crate) fn use_stripe(config: &mut Config, key: &str, base: String) {
    config.stripe_secret_key = Some(SecretString::from(key.to_owned()));
    config.stripe_api_base = base;
}

/// Asserts `status` is INVALID_ARGUMENT naming `field`.
pub(crate) fn assert_invalid(status: &tonic::Status, field: &str) {
    let error = ApiError::from_status(status);
    assert_eq!(
        (error.code, error.field.as_deref()),
        (Code::InvalidArgument, Some(field))
    );
}

/// `customer.subscription.created` at [`T0`] for a new active subscription of `tenant`.
pub(crate) fn new_subscription(event_id: &str, tenant: Uuid) -> String {
    subscription_event(
        event_id,
        "customer.subscription.created",
        T0,
        &stripe_id("sub"),
        "active",
        tenant,
    )
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
