//! The harness: one tenancy server per test on its own uniquely named database, dropped at the end.

use std::net::SocketAddr;

use onramp_kit::testing::{self, RunningService, TestDatabase, serving_channel};
pub(crate) use onramp_kit::testing::{assert_error, caller};
use onramp_proto::tenancy::v1::{self as pb, Role, tenancy_service_client::TenancyServiceClient};
use onramp_tenant_provisioning::{Application, Config, StandaloneState};
use sqlx::PgPool;
use tonic::transport::Channel;
use uuid::Uuid;

/// A running tenancy server, a client for it and a pool on its database (to check rows).
pub(crate) struct TestTenancy {
    /// Where the server listens.
    pub(crate) addr: SocketAddr,
    pub(crate) client: TenancyServiceClient<Channel>,
    pub(crate) db: PgPool,
    database: TestDatabase,
    running: RunningService,
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
        let database = TestDatabase::create("tenancy").await;
        let mut config = Config::new(database.service_config());
        adjust(&mut config);
        let app = Application::build(config).await.expect("build");
        let addr = app.local_addr().expect("addr");
        let running = RunningService::spawn(|stop| app.run_until_stopped(stop));
        let channel = serving_channel(addr, "tenancy").await;
        let db = database.connect().await;
        Self {
            addr,
            client: TenancyServiceClient::new(channel),
            db,
            database,
            running,
        }
    }

    /// Stops the server and drops the database.
    pub(crate) async fn stop(self) {
        self.db.close().await;
        self.running.stop().await;
        self.database.remove().await;
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

    /// A new user and the workspace provisioned for them: `(owner, tenant_id)`.
    pub(crate) async fn owned(&self, name: &str) -> (String, String) {
        let owner = new_user();
        let tenant = tenant_id(&self.provision(&owner, name).await);
        (owner, tenant)
    }

    /// `by` invites `specs` (email, role) to `tenant`.
    pub(crate) async fn invite(
        &self,
        by: &str,
        tenant: &str,
        specs: &[(&str, Role)],
    ) -> Result<pb::CreateInvitesResponse, tonic::Status> {
        self.client
            .clone()
            .create_invites(pb::CreateInvitesRequest {
                caller: caller(by),
                tenant_id: tenant.to_owned(),
                invites: specs
                    .iter()
                    .map(|(email, role)| pb::InviteSpec {
                        email: (*email).to_owned(),
                        role: (*role).into(),
                    })
                    .collect(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// A count of rows.
    pub(crate) async fn count(&self, sql: &str) -> i64 {
        testing::count(&self.db, sql).await
    }
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
