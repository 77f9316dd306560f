//! The life of a service process: serve at once (NOT_SERVING), migrate, report SERVING and start the
//! background workers, drain on shutdown. Each service's `Application::build` says what it serves
//! ([`ServiceSpec`]) and gets back a [`BoundService`]; the rest is the same for every service.

mod spec;

use std::{net::SocketAddr, time::Duration};

use anyhow::Context as _;
use sqlx::{Connection as _, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

pub use spec::{ServiceSpec, Worker};

use crate::{
    db,
    grpc::server::{GrpcServer, Readiness, ServerSettings},
    metrics::sampler,
    service_info::ServiceInfoService,
};

/// A service bound to its address (port 0 in tests), not yet serving: what every service's
/// `Application::build` returns.
#[derive(Debug)]
pub struct BoundService {
    server: GrpcServer,
    spec: ServiceSpec,
}

impl BoundService {
    /// Binds the listener `settings` name (or the prebound one) for `spec`; nothing is served yet.
    pub async fn bind(spec: ServiceSpec, settings: ServerSettings) -> anyhow::Result<Self> {
        let server = GrpcServer::bind(spec.name, settings).await?;
        Ok(Self { server, spec })
    }

    /// Where the gRPC server listens (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.server.local_addr()
    }

    /// Serves the spec's routes (plus ServiceInfo, health and reflection) until `shutdown` fires,
    /// then drains.
    ///
    /// Health says NOT_SERVING until the database answers and migrations are applied, whenever the
    /// database stops answering afterwards, and while draining; calls that arrive before then are
    /// served but will fail on storage. `onramp_ready` follows it, and the pool and mail-outbox gauges
    /// are sampled while the service runs. The [`Worker`]s start once the migrations are applied (never,
    /// if shutdown comes first) and stop when draining starts.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let Self { server, spec } = self;
        let readiness = server.readiness(&spec.grpc_names);
        let mut routes = spec.routes.add_service(ServiceInfoService::server(
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
