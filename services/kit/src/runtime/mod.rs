//! The life of a service process: serve at once (NOT_SERVING), migrate, report SERVING and start the
//! background workers, drain on shutdown. Each service's `Application` hands its routes here.

use std::{fmt, future::Future, pin::Pin, time::Duration};

use anyhow::Context as _;
use sqlx::{Connection as _, PgConnection, PgPool, migrate::Migrator};
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::{
    db,
    grpc::server::{GrpcServer, Readiness},
    metrics::sampler,
    product_events::{
        counts::ProductEventsServer, relay::ProductEventRelay, settings::ProductEventSettings,
    },
    service_info::ServiceInfoService,
};

/// What a service brings to [`run`].
#[derive(Debug)]
pub struct ServiceSpec {
    /// The bounded context's name, e.g. `identity`.
    pub name: &'static str,
    /// The service crate's version.
    pub version: &'static str,
    /// Fully-qualified gRPC service names whose health is reported, e.g. `onramp.identity.v1.IdentityService`.
    pub grpc_names: Vec<&'static str>,
    /// The service's (lazily connecting) pool.
    pub pool: PgPool,
    /// The service's embedded migrations.
    pub migrator: &'static Migrator,
    /// Background work on the service's tables (outbox relays, sweeps), started by [`run`] only once
    /// the migrations are applied.
    pub workers: Vec<Worker>,
    /// The count RPC over the service's product events, served beside its own services.
    pub product_events: Option<ProductEventsServer>,
}

impl ServiceSpec {
    /// The service `name` at `version` on `pool`, migrated by `migrator`; no gRPC service's health
    /// reported yet, no workers.
    pub fn new(
        name: &'static str,
        version: &'static str,
        pool: PgPool,
        migrator: &'static Migrator,
    ) -> Self {
        Self {
            name,
            version,
            grpc_names: Vec::new(),
            pool,
            migrator,
            workers: Vec::new(),
            product_events: None,
        }
    }

    /// Reports the health of the gRPC service `S` (a generated `…Server`) under its own name.
    #[must_use]
    pub fn serving<S: tonic::server::NamedService>(mut self) -> Self {
        self.grpc_names.push(S::NAME);
        self
    }

    /// Adds background workers, started once the migrations are applied.
    #[must_use]
    pub fn with_workers(mut self, workers: impl IntoIterator<Item = Worker>) -> Self {
        self.workers.extend(workers);
        self
    }

    /// Records the funnel: relays the service's product events (when `settings` name a capture
    /// API, see [`ProductEventRelay::worker`]) and serves `api`, their count RPC.
    pub fn with_product_events(
        mut self,
        settings: &ProductEventSettings,
        api: ProductEventsServer,
    ) -> anyhow::Result<Self> {
        let relay = ProductEventRelay::worker(self.pool.clone(), settings, self.name)?;
        self.workers.extend(relay);
        self.product_events = Some(api);
        Ok(self)
    }
}

type WorkerStart =
    Box<dyn FnOnce(CancellationToken) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A background task that needs the service's schema: an outbox relay, a periodic sweep.
///
/// Started before the migrations, a worker polls tables that do not exist yet, logging errors and
/// counting failures an operator would be paged for; [`run`] starts it after them. It gets a token
/// that fires when draining starts, and is awaited before the pool closes, so a pass in flight
/// (a mail being sent) finishes.
pub struct Worker {
    name: &'static str,
    start: WorkerStart,
}

impl Worker {
    /// A worker named `name` (in logs) that runs `work(stop)` until `stop` fires.
    pub fn new<F, Fut>(name: &'static str, work: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self {
            name,
            start: Box::new(move |stop| Box::pin(work(stop))),
        }
    }
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker").field("name", &self.name).finish()
    }
}

/// Serves `routes` (plus ServiceInfo, health and reflection) until `shutdown` fires.
///
/// Health says NOT_SERVING until the database answers and migrations are applied, whenever the
/// database stops answering afterwards, and while draining; calls that arrive before then are
/// served but will fail on storage. `onramp_ready` follows it, and the pool and mail-outbox gauges
/// are sampled while the service runs. The [`Worker`]s start once the migrations are applied (never,
/// if shutdown comes first) and stop when draining starts.
pub async fn run(
    server: GrpcServer,
    spec: ServiceSpec,
    routes: Routes,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let readiness = server.readiness(&spec.grpc_names);
    let mut routes = routes.add_service(ServiceInfoService::server(
        spec.name,
        spec.version,
        spec.pool.clone(),
    ));
    if let Some(product_events) = spec.product_events {
        routes = routes.add_service(product_events);
    }
    sampler::set_ready(spec.name, false);
    let stop_sampling = shutdown.child_token();
    let sampling = tokio::spawn(sampler::run(
        spec.name,
        spec.pool.clone(),
        stop_sampling.clone(),
    ));
    let serving = tokio::spawn(server.serve(routes, readiness.clone(), shutdown.clone()));

    let mut workers = Vec::new();
    if db::migrate_when_reachable(&spec.pool, spec.migrator, &shutdown).await
        && !shutdown.is_cancelled()
    {
        for worker in spec.workers {
            tracing::debug!(service = spec.name, worker = worker.name, "starting");
            workers.push(tokio::spawn((worker.start)(shutdown.child_token())));
        }
        readiness.serving().await;
        sampler::set_ready(spec.name, true);
        tracing::info!(service = spec.name, "migrations applied; serving");
        tokio::spawn(follow_database(
            spec.name,
            spec.pool.clone(),
            readiness.clone(),
            shutdown.child_token(),
        ));
    }

    // Draining starts at the shutdown signal: no longer ready, whatever the server still finishes.
    let unready_on_shutdown = tokio::spawn({
        let shutdown = shutdown.clone();
        let name = spec.name;
        async move {
            shutdown.cancelled().await;
            sampler::set_ready(name, false);
        }
    });
    let outcome = serving.await.context("the gRPC server task panicked");
    unready_on_shutdown.abort();
    sampler::set_ready(spec.name, false);
    stop_sampling.cancel();
    let _ = sampling.await;
    // Every worker saw the shutdown token fire; each finishes its pass while the pool is open.
    for worker in workers {
        worker.await.context("a background worker panicked")?;
    }
    let outcome = outcome?;
    spec.pool.close().await;
    outcome.with_context(|| format!("the {} gRPC server failed", spec.name))
}

/// How often readiness re-checks the database once serving, and how long one check may take.
const DATABASE_CHECK: Duration = Duration::from_secs(1);

/// Reports NOT_SERVING while the database does not answer (it restarted, failed over, the network
/// to it is cut) and SERVING again once it does, until `stop`. It checks on a connection of its own,
/// so a pool busy with requests is never mistaken for an outage.
async fn follow_database(
    name: &'static str,
    pool: PgPool,
    readiness: Readiness,
    stop: CancellationToken,
) {
    let options = pool.connect_options().as_ref().clone();
    let mut conn: Option<PgConnection> = None;
    let mut ready = true;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(DATABASE_CHECK) => {}
        }
        let check = async {
            let mut live = match conn.take() {
                Some(live) => live,
                None => PgConnection::connect_with(&options).await?,
            };
            live.ping().await?;
            conn = Some(live);
            Ok::<_, sqlx::Error>(())
        };
        let answers = matches!(
            tokio::time::timeout(DATABASE_CHECK, check).await,
            Ok(Ok(()))
        );
        if answers == ready || stop.is_cancelled() {
            continue;
        }
        ready = answers;
        if ready {
            tracing::info!(service = name, "the database answers again; serving");
            readiness.serving().await;
        } else {
            tracing::warn!(service = name, "the database does not answer; not serving");
            readiness.not_serving().await;
        }
        sampler::set_ready(name, ready);
    }
}
