//! What a service brings to the runtime: its name, schema, gRPC services and background work.

use std::{convert::Infallible, fmt, future::Future, pin::Pin};

use sqlx::{PgPool, migrate::Migrator};
use tokio_util::sync::CancellationToken;
use tonic::{body::Body, server::NamedService, service::Routes};

use crate::product_events::{
    counts::ProductEventsServer, relay::ProductEventRelay, settings::ProductEventSettings,
};

/// What a service brings to [`super::BoundService::bind`].
#[derive(Debug)]
pub struct ServiceSpec {
    /// The bounded context's name, e.g. `identity`.
    pub name: &'static str,
    /// The service crate's version.
    pub version: &'static str,
    /// Fully-qualified gRPC service names whose health is reported, e.g. `onramp.identity.v1.IdentityService`.
    pub grpc_names: Vec<&'static str>,
    /// The service's own gRPC services (ServiceInfo, health and reflection are added by the runtime).
    pub routes: Routes,
    /// The service's (lazily connecting) pool.
    pub pool: PgPool,
    /// The service's embedded migrations.
    pub migrator: &'static Migrator,
    /// Background work on the service's tables (outbox relays, sweeps), started only once the
    /// migrations are applied.
    pub workers: Vec<Worker>,
    /// The count RPC over the service's product events, served beside its own services.
    pub product_events: Option<ProductEventsServer>,
}

impl ServiceSpec {
    /// The service `name` at `version` on `pool`, migrated by `migrator`; no gRPC service yet, no
    /// workers.
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
            routes: Routes::default(),
            pool,
            migrator,
            workers: Vec::new(),
            product_events: None,
        }
    }

    /// Serves `service` (a generated `…Server`) and reports its health under its own name.
    #[must_use]
    pub fn serving<S>(mut self, service: S) -> Self
    where
        S: tower::Service<http::Request<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.grpc_names.push(S::NAME);
        self.routes = self.routes.add_service(service);
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
/// counting failures an operator would be paged for; the runtime starts it after them. It gets a token
/// that fires when draining starts, and is awaited before the pool closes, so a pass in flight
/// (a mail being sent) finishes.
pub struct Worker {
    pub(super) name: &'static str,
    pub(super) start: WorkerStart,
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
