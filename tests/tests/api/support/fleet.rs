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
    /// `http://<gateway>`.
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    // Last, so the processes (killed when dropped) go before their databases.
    _cleanup: DatabasesGuard,
}

impl Fleet {
    /// Creates the databases and starts every service with `extra` (`(service, VAR, value)`) on top
    /// of the manifests' variables; waits until each reports SERVING.
    pub(crate) async fn services(extra: &[(&str, &'static str, String)]) -> Self {
        let server = postgres();
        let prefix = unique_prefix();
        let options = server.options().expect("options");
        let mut fleet = Self {
            server: server.clone(),
            databases: Vec::new(),
            addrs: Vec::new(),
            envs: Vec::new(),
            services: Vec::new(),
            gateway: None,
            base: String::new(),
            http: reqwest::Client::new(),
            _cleanup: DatabasesGuard::new(&server, &[]),
        };
        for service in SERVICES {
            let name = format!("{prefix}_{}", service.replace('-', "_"));
            assert!(db::ensure_database(&options, &name).await.expect("create"));
            let addr = free_addr();
            let mut env = service_env(addr, fleet.server.database_url(&name));
            env.extend(
                extra
                    .iter()
                    .filter(|(s, _, _)| *s == service)
                    .map(|(_, k, v)| (*k, v.clone())),
            );
            fleet.services.push(Some(spawn(service, &env)));
            fleet._cleanup.guard(&name);
            fleet.databases.push(name);
            fleet.addrs.push(addr);
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
        self.base = format!("http://{addr}");
        wait_gateway_ready(&self.http, &self.base).await;
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
