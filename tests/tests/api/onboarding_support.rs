//! A rig for onboarding's end-to-end tests: the real stack (identity, tenancy, billing), plus an
//! onboarding service of our own wired to a Stripe fake (wiremock), and one or more gateways in
//! front of it — all real servers on ephemeral ports, each with its own database.

use std::{net::SocketAddr, time::Duration};

use onramp_kit::{db, service_config::ServiceConfig};
use onramp_onboarding::{Application, Config, checklist::Checklist, connect::Connect};
use onramp_proto::onboarding::v1::onboarding_service_client::OnboardingServiceClient;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use wiremock::MockServer;

use crate::helpers::{TestStack, postgres, unique_prefix};

/// The trusted proxy header the rig's gateways read the client IP from.
pub(crate) const PROXY_HEADER: &str = "x-forwarded-for";

/// Where the rig's onboarding tells Stripe to send the browser back (the test follows it itself).
pub(crate) const RETURN_URL: &str = "http://app.test/v1/onboarding/connect/return";

struct Running {
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn stop(self) {
        self.stop.cancel();
        self.task.await.expect("task").expect("clean stop");
    }
}

/// The rig. Stop it with [`OnboardingRig::stop`].
pub(crate) struct OnboardingRig {
    pub(crate) stack: TestStack,
    pub(crate) stripe: MockServer,
    pub(crate) connect: Connect,
    pub(crate) checklist: Checklist,
    pub(crate) grpc: OnboardingServiceClient<Channel>,
    /// A client that does not follow redirects (the start route answers 303 to Stripe).
    pub(crate) http: reqwest::Client,
    /// Base URLs of the gateways in front of this onboarding service.
    pub(crate) gateways: Vec<String>,
    /// The onboarding database, for assertions on stored state.
    pub(crate) db: PgPool,
    onboarding_addr: SocketAddr,
    onboarding: Option<Running>,
    gateway_tasks: Vec<Running>,
    database: String,
}

impl OnboardingRig {
    /// Starts everything with `gateways` gateways (each trusting [`PROXY_HEADER`]), no SMTP.
    pub(crate) async fn spawn(gateways: usize) -> Self {
        Self::spawn_with(gateways, None).await
    }

    /// Like [`Self::spawn`], with onboarding sending mail to `smtp_url` when set.
    pub(crate) async fn spawn_with(gateways: usize, smtp_url: Option<String>) -> Self {
        let stack = TestStack::spawn().await;
        let stripe = MockServer::start().await;
        let database = format!("{}_onboarding_rig", unique_prefix());
        let server = postgres();
        db::ensure_database(&server.options().expect("pg"), &database)
            .await
            .expect("create database");
        let mut config = rig_config(&stack, &stripe, &server.database_url(&database), 0);
        config.smtp_url = smtp_url.map(Into::into);
        let app = Application::build(config).await.expect("onboarding builds");
        let connect = app.connect();
        let checklist = app.checklist();
        let onboarding_addr = app.local_addr().expect("addr");
        let onboarding = spawn_service(app);
        let db = PgPool::connect(&server.database_url(&database))
            .await
            .expect("connect");
        let grpc = OnboardingServiceClient::connect(format!("http://{onboarding_addr}"))
            .await
            .expect("grpc");
        let mut rig = Self {
            stack,
            stripe,
            connect,
            checklist,
            grpc,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            gateways: Vec::new(),
            db,
            onboarding_addr,
            onboarding: Some(onboarding),
            gateway_tasks: Vec::new(),
            database,
        };
        for _ in 0..gateways {
            rig.add_gateway().await;
        }
        rig.wait_until_migrated().await;
        rig
    }

    async fn add_gateway(&mut self) {
        let peer = |name: &str| {
            format!(
                "http://{}",
                self.stack.stack.service_addr(name).expect("service runs")
            )
        };
        let mut config = onramp_gateway::Config::new(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            [
                peer("identity"),
                peer("tenant-provisioning"),
                peer("billing"),
                format!("http://{}", self.onboarding_addr),
            ],
        );
        config.trusted_proxy_header = Some(PROXY_HEADER.to_owned());
        let gateway = onramp_gateway::Application::build(config)
            .await
            .expect("gateway builds");
        self.gateways
            .push(format!("http://{}", gateway.local_addr().expect("addr")));
        let stop = CancellationToken::new();
        let task = tokio::spawn(gateway.run_until_stopped(stop.clone()));
        self.gateway_tasks.push(Running { stop, task });
    }

    /// Polls until onboarding reports SERVING (migrations applied), bounded.
    async fn wait_until_migrated(&self) {
        let start = std::time::Instant::now();
        let channel = Channel::from_shared(format!("http://{}", self.onboarding_addr))
            .expect("uri")
            .connect_lazy();
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        loop {
            let answer = health
                .check(tonic_health::pb::HealthCheckRequest {
                    service: String::new(),
                })
                .await;
            if answer.is_ok_and(|a| a.into_inner().status == 1) {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "never serving");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Stops the onboarding service and starts a new one on the same port and database, sending
    /// mail to `smtp_url` (a restart, as a deploy or a crash would do it).
    pub(crate) async fn restart_onboarding(&mut self, smtp_url: Option<String>) {
        if let Some(onboarding) = self.onboarding.take() {
            onboarding.stop().await;
        }
        let url = postgres().database_url(&self.database);
        let mut config = rig_config(&self.stack, &self.stripe, &url, self.onboarding_addr.port());
        config.smtp_url = smtp_url.map(Into::into);
        let app = Application::build(config)
            .await
            .expect("onboarding rebuilds");
        self.connect = app.connect();
        self.checklist = app.checklist();
        self.onboarding = Some(spawn_service(app));
        self.wait_until_migrated().await;
    }

    /// `http://gateway[i]/<path>`.
    pub(crate) fn url(&self, gateway: usize, path: &str) -> String {
        format!("{}{path}", self.gateways[gateway])
    }

    /// Stops onboarding, gateways and the stack; drops every database created.
    pub(crate) async fn stop(mut self) {
        for gateway in self.gateway_tasks.drain(..) {
            gateway.stop().await;
        }
        if let Some(onboarding) = self.onboarding.take() {
            onboarding.stop().await;
        }
        self.db.close().await;
        db::drop_database(&postgres().options().expect("pg"), &self.database)
            .await
            .expect("drop database");
        self.stack.stop().await;
    }
}

fn spawn_service(app: Application) -> Running {
    let stop = CancellationToken::new();
    let task = tokio::spawn(app.run_until_stopped(stop.clone()));
    Running { stop, task }
}

fn rig_config(stack: &TestStack, stripe: &MockServer, url: &str, port: u16) -> Config {
    let peer = |name: &str| format!("http://{}", stack.stack.service_addr(name).expect("runs"));
    let mut base = ServiceConfig::new(SocketAddr::from(([127, 0, 0, 1], port)), url);
    base.server.drain_period = Duration::from_millis(50);
    let mut config = Config::new(base);
    config.identity_service_addr = peer("identity");
    config.tenant_provisioning_service_addr = peer("tenant-provisioning");
    config.billing_service_addr = peer("billing");
    config.stripe_secret_key = Some("sk_test_onramp_rig".to_owned().into());
    config.stripe_api_base = stripe.uri();
    config.stripe_timeout = Duration::from_secs(5);
    config.connect_return_url = Some(RETURN_URL.parse().expect("url"));
    config.connect_refresh_url = Some(
        "http://app.test/v1/onboarding/connect/refresh"
            .parse()
            .expect("url"),
    );
    config
}
