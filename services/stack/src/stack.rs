//! Starting and stopping every service and the gateway in-process.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context as _;
use onramp_kit::{
    config::Variables, db, grpc::server::PreboundListener, service_config::ServiceSettings,
};
use sqlx::postgres::PgConnectOptions;

use crate::{options::StackOptions, postgres::PgServer};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The bounded contexts, in the order the gateway lists them.
pub const SERVICES: [&str; 4] = ["identity", "tenant-provisioning", "billing", "onboarding"];

/// The variables naming each service's address, in the order of [`SERVICES`]: the stack owns them.
const PEER_VARIABLES: [&str; 4] = [
    "IDENTITY_SERVICE_ADDR",
    "TENANT_PROVISIONING_SERVICE_ADDR",
    "BILLING_SERVICE_ADDR",
    "ONBOARDING_SERVICE_ADDR",
];

#[derive(Debug)]
struct RunningService {
    name: &'static str,
    addr: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

/// The running stack. Stop it with [`RunningStack::stop`]; dropping it without stopping (a test
/// that panicked, say) still tells every part to stop, without waiting for them.
#[derive(Debug)]
pub struct RunningStack {
    gateway_addr: SocketAddr,
    gateway_stop: CancellationToken,
    /// `None` once [`RunningStack::stop`] has awaited it.
    gateway_task: Option<JoinHandle<anyhow::Result<()>>>,
    services: Vec<RunningService>,
    created_databases: Vec<String>,
    options: StackOptions,
    billing_provider: String,
}

/// Starts one service on its reserved address: its config is loaded as its binary loads it, under
/// what the stack owns (`$owned`: peers, listen address, database); `$adjust` runs the hooks.
macro_rules! spawn_service {
    ($krate:ident, $options:expr, $owned:expr, $created:expr, $addr:expr, $adjust:expr) => {{
        let options: &StackOptions = $options;
        let name = $krate::Application::NAME;
        let database = options.database_name(name);
        if db::ensure_database(&options.server.options()?, &database).await? {
            $created.push(database.clone());
        }
        let (addr, listener): &(SocketAddr, PreboundListener) = $addr;
        let mut owned: Variables = $owned.clone();
        owned.set("DATABASE_URL", options.server.database_url(&database));
        owned.set("GRPC_LISTEN_ADDR", addr.to_string());
        let mut config: $krate::Config = options
            .config
            .load_derived(
                name,
                <$krate::Config as ServiceSettings>::DERIVE,
                options.defaults(),
                owned,
            )
            .map_err(|error| anyhow::anyhow!("{name}'s configuration: {error}"))?;
        config.base.server.prebound = Some(listener.clone());
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
        let mut billing_provider = String::new();
        let reserved = reserve_listeners(options.host)?;
        let peers = reserved
            .each_ref()
            .map(|(addr, _)| format!("http://{addr}"));
        // Every part learns every peer; each reads the ones its config has fields for.
        let owned = Variables::new(
            PEER_VARIABLES
                .iter()
                .zip(&peers)
                .map(|(name, addr)| (*name, addr.clone())),
        );
        let services = vec![
            spawn_service!(
                onramp_identity,
                &options,
                owned,
                created,
                &reserved[0],
                |config: &mut onramp_identity::Config| {
                    options.hooks.identity.apply(config);
                }
            ),
            spawn_service!(
                onramp_tenant_provisioning,
                &options,
                owned,
                created,
                &reserved[1],
                |config: &mut onramp_tenant_provisioning::Config| {
                    options.hooks.tenancy.apply(config);
                }
            ),
            spawn_service!(
                onramp_billing,
                &options,
                owned,
                created,
                &reserved[2],
                |config: &mut onramp_billing::Config| {
                    if !options.billing_webhook_secrets.is_empty() {
                        config.stripe_webhook_secrets = options.billing_webhook_secrets.clone();
                    }
                    options.hooks.billing.apply(config);
                    billing_provider = describe_provider(config);
                }
            ),
            spawn_service!(
                onramp_onboarding,
                &options,
                owned,
                created,
                &reserved[3],
                |config: &mut onramp_onboarding::Config| {
                    options.hooks.onboarding.apply(config);
                }
            ),
        ];
        let mut gateway_owned = owned.clone();
        gateway_owned.set(
            "HTTP_LISTEN_ADDR",
            SocketAddr::new(options.host, options.gateway_port).to_string(),
        );
        let mut config: onramp_gateway::Config = options
            .config
            .load_derived(
                "gateway",
                onramp_gateway::Config::derived_from_app_base_url,
                options.defaults(),
                gateway_owned,
            )
            .map_err(|error| anyhow::anyhow!("the gateway's configuration: {error}"))?;
        if let Some(mailbox) = &options.mailbox {
            config.dev_routes = Some(crate::mailbox::routes(mailbox.clone()));
        }
        options.hooks.gateway.apply(&mut config);
        let gateway = onramp_gateway::Application::build(config)
            .await
            .context("starting the gateway")?;
        let gateway_addr = gateway.local_addr()?;
        let gateway_stop = CancellationToken::new();
        let gateway_task = tokio::spawn(gateway.run_until_stopped(gateway_stop.clone()));
        Ok(Self {
            gateway_addr,
            gateway_stop,
            gateway_task: Some(gateway_task),
            services,
            created_databases: created,
            options,
            billing_provider,
        })
    }

    /// The billing provider in use, as a person reads it (`manual (…)`, `stripe at …`).
    pub fn billing_provider(&self) -> &str {
        &self.billing_provider
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
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.gateway_stop.cancel();
        if let Some(gateway) = self.gateway_task.take() {
            gateway.await??;
        }
        let services = std::mem::take(&mut self.services);
        for service in &services {
            service.stop.cancel();
        }
        for service in services {
            service
                .task
                .await?
                .with_context(|| format!("stopping {}", service.name))?;
        }
        Ok(())
    }

    /// The Postgres server the services' databases live on.
    pub fn server(&self) -> &PgServer {
        &self.options.server
    }

    /// The databases this stack created (and so may drop).
    pub fn created_databases(&self) -> &[String] {
        &self.created_databases
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

impl Drop for RunningStack {
    /// Nothing of a dropped stack keeps serving or holding its databases once its runtime lets the
    /// parts drain (a stopped stack has nothing left to cancel).
    fn drop(&mut self) {
        self.gateway_stop.cancel();
        for service in &self.services {
            service.stop.cancel();
        }
    }
}

fn describe_provider(config: &onramp_billing::Config) -> String {
    match config.provider() {
        Ok(onramp_billing::ProviderKind::Stripe) => {
            let webhooks = if config.stripe_webhook_secrets.is_empty() {
                "no STRIPE_WEBHOOK_SECRETS: webhooks are refused"
            } else {
                "webhooks verified"
            };
            format!("stripe at {} ({webhooks})", config.stripe_api_base)
        }
        Ok(onramp_billing::ProviderKind::Manual) => {
            "manual (no STRIPE_SECRET_KEY: free, trial and complimentary plans, no card)".to_owned()
        }
        Err(error) => format!("not usable: {error}"),
    }
}
