//! Starting and stopping every service and the gateway in-process.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use anyhow::Context as _;
use onramp_kit::{db, grpc::server::PreboundListener, service_config::ServiceConfig};
use sqlx::postgres::PgConnectOptions;

use crate::postgres::PgServer;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The bounded contexts, in the order the gateway lists them.
pub const SERVICES: [&str; 4] = ["identity", "tenant-provisioning", "billing", "onboarding"];

/// How to run the stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// The Postgres server; each service gets its own database on it.
    pub server: PgServer,
    /// Database names are `<prefix>_<service>` (dashes become underscores).
    pub database_prefix: String,
    /// The interface everything binds to.
    pub host: IpAddr,
    /// The gateway's port; 0 picks a free one. Services always take free ports.
    pub gateway_port: u16,
    /// The gateway's per-request budget.
    pub request_budget: Duration,
    /// How long a stopping service reports NOT_SERVING before it closes.
    pub drain_period: Duration,
    /// Adjusts identity's config before it starts (tests: signing keys, limits, a shared clock).
    pub configure_identity: Option<ConfigHook<onramp_identity::Config>>,
    /// Adjusts tenant-provisioning's config before it starts (tests: SMTP, payment retry hints).
    pub configure_tenancy: Option<ConfigHook<onramp_tenant_provisioning::Config>>,
    /// Adjusts billing's config before it starts (tests: provider, Stripe fake, intervals).
    pub configure_billing: Option<ConfigHook<onramp_billing::Config>>,
    /// Adjusts onboarding's config before it starts (tests: Stripe fake, SMTP, Connect URLs).
    pub configure_onboarding: Option<ConfigHook<onramp_onboarding::Config>>,
    /// Adjusts the gateway's config before it starts (tests: a shared clock).
    pub configure_gateway: Option<ConfigHook<onramp_gateway::Config>>,
    /// Stripe webhook signing secrets billing verifies deliveries with; empty: webhooks are refused.
    pub billing_webhook_secrets: Vec<onramp_kit::config::SecretString>,
}

/// A function that adjusts a config struct before the stack starts a part with it.
pub struct ConfigHook<T>(Arc<dyn Fn(&mut T) + Send + Sync>);

impl<T> ConfigHook<T> {
    /// Wraps `adjust`.
    pub fn new(adjust: impl Fn(&mut T) + Send + Sync + 'static) -> Self {
        Self(Arc::new(adjust))
    }

    /// Applies the adjustment.
    pub fn apply(&self, config: &mut T) {
        (self.0)(config);
    }
}

impl<T> Clone for ConfigHook<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> std::fmt::Debug for ConfigHook<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfigHook(..)")
    }
}

impl StackOptions {
    /// Loopback, free ports, the default budget and a short drain: right for a laptop or a test.
    pub fn local(server: PgServer, database_prefix: impl Into<String>) -> Self {
        Self {
            server,
            database_prefix: database_prefix.into(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            gateway_port: 0,
            request_budget: Duration::from_secs(10),
            drain_period: Duration::from_millis(200),
            configure_identity: None,
            configure_tenancy: None,
            configure_billing: None,
            configure_onboarding: None,
            configure_gateway: None,
            billing_webhook_secrets: Vec::new(),
        }
    }

    /// The database a service uses.
    pub fn database_name(&self, service: &str) -> String {
        format!("{}_{}", self.database_prefix, service.replace('-', "_"))
    }
}

#[derive(Debug)]
struct RunningService {
    name: &'static str,
    addr: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

/// The running stack. Stop it with [`RunningStack::shutdown`].
#[derive(Debug)]
pub struct RunningStack {
    gateway_addr: SocketAddr,
    gateway_stop: CancellationToken,
    gateway_task: JoinHandle<anyhow::Result<()>>,
    services: Vec<RunningService>,
    created_databases: Vec<String>,
    options: StackOptions,
}

/// Starts one service on its reserved address; `$adjust` edits its config first (peers, hooks).
macro_rules! spawn_service {
    ($krate:ident, $options:expr, $created:expr, $addr:expr, $adjust:expr) => {{
        let options: &StackOptions = $options;
        let name = $krate::Application::NAME;
        let database = options.database_name(name);
        if db::ensure_database(&options.server.options()?, &database).await? {
            $created.push(database.clone());
        }
        let url = options.server.database_url(&database);
        let (addr, listener): &(SocketAddr, PreboundListener) = $addr;
        let mut base = ServiceConfig::new(*addr, url);
        base.server.prebound = Some(listener.clone());
        base.server.drain_period = options.drain_period;
        let mut config = $krate::Config::new(base);
        #[allow(
            clippy::redundant_closure_call,
            reason = "the closure is the macro's argument"
        )]
        ($adjust)(&mut config);
        let app = $krate::Application::build(config)
            .await
            .with_context(|| format!("starting {name}"))?;
        let addr = app.local_addr()?;
        let stop = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(stop.clone()));
        RunningService {
            name,
            addr,
            stop,
            task,
        }
    }};
}

/// One bound listener per service, so that every service knows every peer's address before any
/// of them starts (they call each other in both directions). They stay bound until the services
/// take them over, so no other process can grab a port in between.
fn reserve_listeners(host: IpAddr) -> anyhow::Result<[(SocketAddr, PreboundListener); 4]> {
    let reserved = (0..4)
        .map(|_| {
            let listener = std::net::TcpListener::bind(SocketAddr::new(host, 0))?;
            Ok((listener.local_addr()?, PreboundListener::new(listener)))
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    reserved
        .try_into()
        .map_err(|_| anyhow::anyhow!("four listeners"))
}

impl RunningStack {
    /// Creates each service's database if missing, then starts every service and the gateway.
    pub async fn start(options: StackOptions) -> anyhow::Result<Self> {
        let mut created = Vec::new();
        let reserved = reserve_listeners(options.host)?;
        let [identity, tenancy, billing, onboarding] = reserved
            .each_ref()
            .map(|(addr, _)| format!("http://{addr}"));
        let services = vec![
            spawn_service!(
                onramp_identity,
                &options,
                created,
                &reserved[0],
                |config: &mut onramp_identity::Config| {
                    config.tenant_provisioning_service_addr = Some(tenancy.clone());
                    if let Some(hook) = &options.configure_identity {
                        hook.apply(config);
                    }
                }
            ),
            spawn_service!(
                onramp_tenant_provisioning,
                &options,
                created,
                &reserved[1],
                |config: &mut onramp_tenant_provisioning::Config| {
                    config.billing_service_addr = Some(billing.clone());
                    config.identity_service_addr = Some(identity.clone());
                    if let Some(hook) = &options.configure_tenancy {
                        hook.apply(config);
                    }
                }
            ),
            spawn_service!(
                onramp_billing,
                &options,
                created,
                &reserved[2],
                |config: &mut onramp_billing::Config| {
                    config.stripe_webhook_secrets = options.billing_webhook_secrets.clone();
                    config.tenant_provisioning_service_addr = Some(tenancy.clone());
                    config.onboarding_service_addr = Some(onboarding.clone());
                    if let Some(hook) = &options.configure_billing {
                        hook.apply(config);
                    }
                }
            ),
            spawn_service!(
                onramp_onboarding,
                &options,
                created,
                &reserved[3],
                |config: &mut onramp_onboarding::Config| {
                    config.identity_service_addr = identity.clone();
                    config.tenant_provisioning_service_addr = tenancy.clone();
                    config.billing_service_addr = billing.clone();
                    if let Some(hook) = &options.configure_onboarding {
                        hook.apply(config);
                    }
                }
            ),
        ];
        let _ = onboarding;
        let peers = services
            .iter()
            .map(|s| format!("http://{}", s.addr))
            .collect::<Vec<_>>();
        let peers: [String; 4] = peers
            .try_into()
            .map_err(|_| anyhow::anyhow!("four services"))?;
        let mut config =
            onramp_gateway::Config::new(SocketAddr::new(options.host, options.gateway_port), peers);
        config.request_budget = options.request_budget;
        if let Some(hook) = &options.configure_gateway {
            hook.apply(&mut config);
        }
        let gateway = onramp_gateway::Application::build(config)
            .await
            .context("starting the gateway")?;
        let gateway_addr = gateway.local_addr()?;
        let gateway_stop = CancellationToken::new();
        let gateway_task = tokio::spawn(gateway.run_until_stopped(gateway_stop.clone()));
        Ok(Self {
            gateway_addr,
            gateway_stop,
            gateway_task,
            services,
            created_databases: created,
            options,
        })
    }

    /// The gateway's address.
    pub fn gateway_addr(&self) -> SocketAddr {
        self.gateway_addr
    }

    /// The gateway's base URL, `http://host:port`.
    pub fn gateway_url(&self) -> String {
        format!("http://{}", self.gateway_addr)
    }

    /// A service's gRPC address, while it runs.
    pub fn service_addr(&self, name: &str) -> Option<SocketAddr> {
        self.services
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.addr)
    }

    /// Connection options for a service's own database (for tests that inspect or lock it).
    pub fn database(&self, name: &str) -> anyhow::Result<PgConnectOptions> {
        Ok(self
            .options
            .server
            .options()?
            .database(&self.options.database_name(name)))
    }

    /// Stops one service (drain included) and waits for it to finish.
    pub async fn stop_service(&mut self, name: &str) -> anyhow::Result<()> {
        let index = self
            .services
            .iter()
            .position(|s| s.name == name)
            .context("no such running service")?;
        let service = self.services.remove(index);
        service.stop.cancel();
        service.task.await?
    }

    /// Waits until any part stops on its own (an error) or `shutdown` fires, then stops everything.
    pub async fn run_until(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        shutdown.cancelled().await;
        self.stop().await
    }

    /// Stops the gateway and every service, waiting for each to drain.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.gateway_stop.cancel();
        self.gateway_task.await??;
        for service in &self.services {
            service.stop.cancel();
        }
        for service in self.services {
            service
                .task
                .await?
                .with_context(|| format!("stopping {}", service.name))?;
        }
        Ok(())
    }

    /// Stops everything and drops the databases this stack created (and only those).
    pub async fn shutdown_and_drop_databases(self) -> anyhow::Result<()> {
        let server = self.options.server.options()?;
        let created = self.created_databases.clone();
        self.stop().await?;
        for database in created {
            db::drop_database(&server, &database).await?;
        }
        Ok(())
    }
}
