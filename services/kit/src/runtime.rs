//! The life of a service process: serve at once (NOT_SERVING), migrate, report SERVING, drain on
//! shutdown. Each service's `Application` hands its routes here.

use anyhow::Context as _;
use sqlx::{PgPool, migrate::Migrator};
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::{db, grpc::server::GrpcServer, service_info::ServiceInfoService};

/// What a service brings to [`run`].
#[derive(Debug)]
pub struct ServiceSpec {
    /// The bounded context's name, e.g. `identity`.
    pub name: &'static str,
    /// The service crate's version.
    pub version: &'static str,
    /// Fully-qualified gRPC service names whose health is reported, e.g. `onramp.identity.v1.IdentityService`.
    pub grpc_names: &'static [&'static str],
    /// The service's (lazily connecting) pool.
    pub pool: PgPool,
    /// The service's embedded migrations.
    pub migrator: &'static Migrator,
}

/// Serves `routes` (plus ServiceInfo, health and reflection) until `shutdown` fires.
///
/// Health says NOT_SERVING until the database answers and migrations are applied, and again while
/// draining; calls that arrive before then are served but will fail on storage.
pub async fn run(
    server: GrpcServer,
    spec: ServiceSpec,
    routes: Routes,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let readiness = server.readiness(spec.grpc_names);
    let routes = routes.add_service(ServiceInfoService::server(
        spec.name,
        spec.version,
        spec.pool.clone(),
    ));
    let serving = tokio::spawn(server.serve(routes, readiness.clone(), shutdown.clone()));

    if db::migrate_when_reachable(&spec.pool, spec.migrator, &shutdown).await
        && !shutdown.is_cancelled()
    {
        readiness.serving().await;
        tracing::info!(service = spec.name, "migrations applied; serving");
    }

    let outcome = serving.await.context("the gRPC server task panicked")?;
    spec.pool.close().await;
    outcome.with_context(|| format!("the {} gRPC server failed", spec.name))
}
