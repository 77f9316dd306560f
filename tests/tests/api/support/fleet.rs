//! The fault suite's deployment: every service and the gateway as separate OS processes on the
//! test's own databases, which a test can `kill -9` and restart one at a time, and whose databases
//! it reads afterwards to check invariants.

use std::{net::SocketAddr, time::Duration};

use onramp_kit::db;
use onramp_stack::postgres::PgServer;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::{
    DatabasesGuard, postgres,
    processes::{Process, free_addr, service_env, spawn, wait_gateway_ready, wait_serving},
    unique_prefix,
};

/// The services, in the order of [`Fleet`]'s vectors.
const SERVICES: [&str; 4] = ["identity", "tenant-provisioning", "billing", "onboarding"];

/// The gateway variable naming each service's address.
const PEER_VARS: [&str; 4] = [
    "IDENTITY_SERVICE_ADDR",
    "TENANT_PROVISIONING_SERVICE_ADDR",
    "BILLING_SERVICE_ADDR",
    "ONBOARDING_SERVICE_ADDR",
];

/// An `extra` value `peer:<service>` becomes that service's `http://` address.
pub(crate) const PEER: &str = "peer:";

fn index(service: &str) -> usize {
    SERVICES
        .iter()
        .position(|s| *s == service)
        .unwrap_or_else(|| panic!("no service {service}"))
}

/// Four services (one replica each, no peers between them: tenancy runs standalone and billing's
/// outbox waits) and, once started, the gateway in front of them.
pub(crate) struct Fleet {
    server: PgServer,
    databases: Vec<String>,
    addrs: Vec<SocketAddr>,
    envs: Vec<Vec<(&'static str, String)>>,
    services: Vec<Option<Process>>,
    gateway: Option<Process>,
    gateway_env: Vec<(&'static str, String)>,
    /// `http://<gateway>`.
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    // Last, so the processes (killed when dropped) go before their databases.
    _cleanup: DatabasesGuard,
}

impl Fleet {
    /// Creates the databases and starts every service with `extra` (`(service, VAR, value)`, a
    /// value [`PEER`]`<service>` naming another's address) on top of the manifests' variables;
    /// waits until each reports SERVING.
    pub(crate) async fn services(extra: &[(&str, &'static str, String)]) -> Self {
        Self::services_on(postgres(), extra).await
    }

    /// [`Fleet::services`] on `server`'s databases (a private cluster the test restarts, say).
    pub(crate) async fn services_on(
        server: PgServer,
        extra: &[(&str, &'static str, String)],
    ) -> Self {
        Self::services_via(server, extra, &[]).await
    }

    /// [`Fleet::services_on`], each service named in `database_via` reaching its database through
    /// that address (a fault proxy in front of `server`) instead of directly.
    pub(crate) async fn services_via(
        server: PgServer,
        extra: &[(&str, &'static str, String)],
        database_via: &[(&str, SocketAddr)],
    ) -> Self {
        let prefix = unique_prefix();
        let options = server.options().expect("options");
        let mut fleet = Self {
            server: server.clone(),
            databases: Vec::new(),
            // Every address first, so that a service can be told another's (`PEER`).
            addrs: SERVICES.iter().map(|_| free_addr()).collect(),
            envs: Vec::new(),
            services: Vec::new(),
            gateway: None,
            gateway_env: Vec::new(),
            base: String::new(),
            http: reqwest::Client::new(),
            _cleanup: DatabasesGuard::new(&server, &[]),
        };
        for (i, service) in SERVICES.iter().copied().enumerate() {
            let name = format!("{prefix}_{}", service.replace('-', "_"));
            assert!(db::ensure_database(&options, &name).await.expect("create"));
            let addr = fleet.addrs[i];
            let url = match database_via.iter().find(|(s, _)| *s == service) {
                Some((_, via)) => {
                    let mut url = url::Url::parse(&fleet.server.database_url(&name)).expect("url");
                    url.set_ip_host(via.ip()).expect("host");
                    url.set_port(Some(via.port())).expect("port");
                    url.to_string()
                }
                None => fleet.server.database_url(&name),
            };
            let mut env = service_env(addr, url);
            env.extend(
                extra
                    .iter()
                    .filter(|(s, _, _)| *s == service)
                    .map(|(_, k, v)| match v.strip_prefix(PEER) {
                        Some(peer) => (*k, format!("http://{}", fleet.addrs[index(peer)])),
                        None => (*k, v.clone()),
                    }),
            );
            fleet.services.push(Some(spawn(service, &env)));
            fleet._cleanup.guard(&name);
            fleet.databases.push(name);
            fleet.envs.push(env);
        }
        for addr in &fleet.addrs {
            wait_serving(*addr).await;
        }
        fleet
    }

    /// Starts the gateway with `REQUEST_BUDGET=budget`, reaching each service directly unless
    /// `through` names another address for it (a fault proxy); waits until `/readyz` is 200.
    pub(crate) async fn start_gateway(&mut self, budget: &str, through: &[(&str, SocketAddr)]) {
        let addr = free_addr();
        let mut env = vec![
            ("HTTP_LISTEN_ADDR", addr.to_string()),
            ("REQUEST_BUDGET", budget.to_owned()),
            ("READINESS_TIMEOUT", "1s".into()),
            ("LOG_FORMAT", "json".into()),
            ("RUST_LOG", "warn".into()),
        ];
        for (i, var) in PEER_VARS.iter().enumerate() {
            let peer = through
                .iter()
                .find(|(service, _)| index(service) == i)
                .map_or(self.addrs[i], |(_, proxy)| *proxy);
            env.push((var, format!("http://{peer}")));
        }
        self.gateway = Some(spawn("gateway", &env));
        self.gateway_env = env;
        self.base = format!("http://{addr}");
        wait_gateway_ready(&self.http, &self.base).await;
    }

    /// `kill -9` of the gateway.
    pub(crate) async fn kill9_gateway(&mut self) {
        self.gateway.take().expect("the gateway runs").kill9().await;
    }

    /// Starts the gateway again on the same address and waits until `/readyz` is 200.
    pub(crate) async fn restart_gateway(&mut self) {
        assert!(self.gateway.is_none(), "the gateway is still running");
        self.gateway = Some(spawn("gateway", &self.gateway_env));
        wait_gateway_ready(&self.http, &self.base).await;
    }

    /// Polls `/readyz` (bounded by `within`) until it says ready (200) or not (503); panics on any
    /// other answer.
    pub(crate) async fn wait_readiness(&self, ready: bool, within: Duration) {
        let want = if ready { 200 } else { 503 };
        let start = std::time::Instant::now();
        loop {
            let status = self
                .http
                .get(format!("{}/readyz", self.base))
                .send()
                .await
                .expect("the gateway answers /readyz")
                .status()
                .as_u16();
            assert!(matches!(status, 200 | 503), "/readyz answered {status}");
            if status == want {
                return;
            }
            assert!(
                start.elapsed() < within,
                "/readyz still answered {status} after {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The gRPC address `service` listens on.
    pub(crate) fn addr(&self, service: &str) -> SocketAddr {
        self.addrs[index(service)]
    }

    /// The name of `service`'s database (to aim `pg_terminate_backend` at it).
    pub(crate) fn database(&self, service: &str) -> &str {
        &self.databases[index(service)]
    }

    /// A pool on `service`'s database, for reading invariants (and terminating backends).
    pub(crate) async fn pool(&self, service: &str) -> PgPool {
        let options = self.server.options().expect("options");
        PgPool::connect_with(options.database(self.database(service)))
            .await
            .expect("connect to the service's database")
    }

    /// `kill -9` of `service`.
    pub(crate) async fn kill9(&mut self, service: &str) {
        let mut process = self.services[index(service)]
            .take()
            .unwrap_or_else(|| panic!("{service} is not running"));
        process.kill9().await;
    }

    /// Starts `service` again with the same environment (address and database) and waits until it
    /// reports SERVING.
    pub(crate) async fn restart(&mut self, service: &str) {
        let i = index(service);
        assert!(self.services[i].is_none(), "{service} is still running");
        self.services[i] = Some(spawn(service, &self.envs[i]));
        wait_serving(self.addrs[i]).await;
    }

    /// Whether `service` is still the process started first (not crashed, not restarted).
    pub(crate) fn is_running(&mut self, service: &str) -> bool {
        self.services[index(service)]
            .as_mut()
            .is_some_and(Process::is_running)
    }

    /// Provisions a workspace for the holder of `token` through the gateway: its id.
    pub(crate) async fn workspace(&self, token: &str) -> String {
        let created: Value = self
            .http
            .post(format!("{}/v1/tenants", self.base))
            .bearer_auth(token)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(&json!({ "name": "Fault workspace" }))
            .send()
            .await
            .expect("provision")
            .json()
            .await
            .expect("tenant json");
        created["tenant"]["id"]
            .as_str()
            .expect("tenant id")
            .to_owned()
    }

    /// Signs a new account up and logs it in through the gateway: its user id and access token.
    pub(crate) async fn user(&self) -> (String, String) {
        let email = format!("fault-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = "correct horse battery staple";
        let signup = self
            .http
            .post(format!("{}/v1/auth/signup", self.base))
            .json(&json!({ "email": email, "password": password, "display_name": "Fault" }))
            .send()
            .await
            .expect("signup");
        assert_eq!(signup.status(), 202, "signup");
        let session: Value = self
            .http
            .post(format!("{}/v1/auth/login", self.base))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("session json");
        let token = session["access_token"]
            .as_str()
            .expect("access token")
            .to_owned();
        let me: Value = self
            .http
            .get(format!("{}/v1/users/me", self.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("me")
            .json()
            .await
            .expect("me json");
        (me["id"].as_str().expect("user id").to_owned(), token)
    }
}

/// Every workspace in tenancy's database is whole: exactly one owner, the whole starter template,
/// and the provisioning request that made it (a connection or process that died mid-transaction
/// left nothing half-made).
pub(crate) async fn assert_whole_workspaces(fleet: &Fleet) {
    let tenancy = fleet.pool("tenant-provisioning").await;
    let partial: Vec<uuid::Uuid> = sqlx::query_scalar(
        "select t.id from tenants t
          where (select count(*) from memberships m where m.tenant_id = t.id and m.role = 'owner') <> 1
             or (select count(*) from starter_items s where s.tenant_id = t.id) <> $1
             or not exists (select 1 from provisioning_requests r where r.tenant_id = t.id)",
    )
    .bind(template_items())
    .fetch_all(&tenancy)
    .await
    .expect("partial tenants");
    tenancy.close().await;
    assert!(partial.is_empty(), "half-made workspaces: {partial:?}");
}

/// Runs `scenario` under an outer bound, so a hang fails the test instead of stalling CI.
pub(crate) async fn bounded<T>(limit: Duration, scenario: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, scenario)
        .await
        .unwrap_or_else(|_| panic!("the scenario did not finish within {limit:?}"))
}

/// The built-in starter template every workspace starts with.
const TEMPLATE: &str =
    include_str!("../../../../services/tenant-provisioning/starter_template.json");

/// How many starter items a whole workspace has.
pub(crate) fn template_items() -> i64 {
    let template: Value = serde_json::from_str(TEMPLATE).expect("template json");
    let items = template["items"].as_array().expect("items").len();
    i64::try_from(items).expect("count")
}
