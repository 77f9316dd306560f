//! The harness: one tenancy server per test on its own uniquely named database, dropped at the end.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use onramp_kit::{ApiError, Code, service_config::ServiceConfig};
use onramp_proto::{
    common::v1::Caller,
    tenancy::v1::{self as pb, tenancy_service_client::TenancyServiceClient},
};
use onramp_tenant_provisioning::{Application, Config, StandaloneState};
use sqlx::{PgPool, postgres::PgConnectOptions};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use uuid::Uuid;

/// The Postgres server: `DATABASE_URL` if set, else the local one.
fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A running tenancy server, a client for it and a pool on its database (to check rows).
pub(crate) struct TestTenancy {
    /// Where the server listens.
    pub(crate) addr: SocketAddr,
    pub(crate) client: TenancyServiceClient<Channel>,
    pub(crate) db: PgPool,
    server: PgConnectOptions,
    database: String,
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl TestTenancy {
    /// New tenants start in `pending_payment` (billing stands outside these tests).
    pub(crate) async fn pending() -> Self {
        Self::spawn(|config| config.standalone_initial_state = StandaloneState::PendingPayment)
            .await
    }

    /// New tenants start `active`.
    pub(crate) async fn active() -> Self {
        Self::spawn(|_| {}).await
    }

    pub(crate) async fn spawn(adjust: impl FnOnce(&mut Config)) -> Self {
        let server: PgConnectOptions = server_url().parse().expect("DATABASE_URL");
        let database = format!("onramp_test_{}", &Uuid::new_v4().simple().to_string()[..12]);
        onramp_kit::db::ensure_database(&server, &database)
            .await
            .expect("create database");
        let options = server.clone().database(&database);
        let mut url = url::Url::parse(&server_url()).expect("DATABASE_URL is a URL");
        url.set_path(&database);
        let mut base = ServiceConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)), url.as_str());
        base.server.drain_period = Duration::from_millis(10);
        let mut config = Config::new(base);
        adjust(&mut config);
        let app = Application::build(config).await.expect("build");
        let addr = app.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(stop.clone()));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect_lazy();
        wait_until_serving(channel.clone()).await;
        let db = PgPool::connect_with(options).await.expect("pool");
        Self {
            addr,
            client: TenancyServiceClient::new(channel),
            db,
            server,
            database,
            stop,
            task,
        }
    }

    /// Stops the server and drops the database.
    pub(crate) async fn stop(self) {
        self.db.close().await;
        self.stop.cancel();
        self.task.await.expect("join").expect("clean stop");
        onramp_kit::db::drop_database(&self.server, &self.database)
            .await
            .expect("drop");
    }

    /// Provisions a workspace for `user` (fresh key), expecting success.
    pub(crate) async fn provision(&self, user: &str, name: &str) -> pb::ProvisionTenantResponse {
        self.client
            .clone()
            .provision_tenant(provision_request(
                user,
                &Uuid::new_v4().to_string(),
                name,
                "",
            ))
            .await
            .expect("provisioned")
            .into_inner()
    }

    /// A count of rows.
    pub(crate) async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.db)
            .await
            .expect(sql)
    }
}

async fn wait_until_serving(channel: Channel) {
    let mut health = HealthClient::new(channel);
    let start = Instant::now();
    loop {
        let answer = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map(|r| r.into_inner().status());
        if matches!(answer, Ok(ServingStatus::Serving)) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "tenancy never became SERVING"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A signed-in caller, as the gateway builds it.
pub(crate) fn caller(user: &str) -> Option<Caller> {
    Some(Caller {
        user_id: user.to_owned(),
        client_ip: String::new(),
        user_agent: "tests".to_owned(),
        request_id: Uuid::new_v4().to_string(),
    })
}

pub(crate) fn new_user() -> String {
    Uuid::new_v4().to_string()
}

pub(crate) fn provision_request(
    user: &str,
    key: &str,
    name: &str,
    slug: &str,
) -> pb::ProvisionTenantRequest {
    pb::ProvisionTenantRequest {
        caller: caller(user),
        idempotency_key: key.to_owned(),
        name: name.to_owned(),
        slug: slug.to_owned(),
        plan_id: String::new(),
    }
}

/// The table code and field of a failed call, as the gateway will decode them.
pub(crate) fn error_of<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> ApiError {
    ApiError::from_status(&result.expect_err("the call should fail"))
}

/// Asserts the failure's code (and field, when given).
pub(crate) fn assert_error<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: Code,
    field: Option<&str>,
) -> ApiError {
    let error = error_of(result);
    assert_eq!(error.code, code, "{error:?}");
    if let Some(field) = field {
        assert_eq!(error.field.as_deref(), Some(field), "{error:?}");
    }
    error
}

/// Adds a member directly (fixture: inviting needs identity, which these tests do not run).
pub(crate) async fn add_member(app: &TestTenancy, tenant_id: &str, user: &str, role: &str) {
    sqlx::query(
        "insert into memberships (tenant_id, user_id, role) values ($1::uuid, $2::uuid, $3)",
    )
    .bind(tenant_id)
    .bind(user)
    .bind(role)
    .execute(&app.db)
    .await
    .expect("fixture member");
}

/// The tenant id of a provisioning response.
pub(crate) fn tenant_id(response: &pb::ProvisionTenantResponse) -> String {
    response.tenant.as_ref().expect("tenant").id.clone()
}
