//! The gRPC server every service runs: health, reflection, a timeout cap, trace continuation,
//! deadline scoping, per-call metrics, and a drain on shutdown.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde::Deserialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{service::Routes, transport::server::TcpIncoming};
use tonic_health::{ServingStatus, server::HealthReporter};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::{
    grpc::{deadline_layer::DeadlineLayer, deadline_layer::request_budget, trace_context},
    metrics::rpc::RpcMetricsLayer,
};

/// Server settings shared by every service.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    /// `GRPC_LISTEN_ADDR`: where the gRPC server listens; default `0.0.0.0:50051`. Port 0 picks a free one.
    #[serde(default = "default_listen_addr")]
    pub grpc_listen_addr: SocketAddr,
    /// `MAX_RPC_TIMEOUT`: the longest any RPC may run, whatever its `grpc-timeout` asks; default `30s`.
    #[serde(default = "default_max_rpc_timeout", with = "humantime_serde")]
    pub max_rpc_timeout: Duration,
    /// `DRAIN_PERIOD`: how long the server reports NOT_SERVING before it stops accepting calls on
    /// shutdown, so load balancers move away first; default `5s`.
    #[serde(default = "default_drain_period", with = "humantime_serde")]
    pub drain_period: Duration,
    /// A listener bound ahead of time, used instead of binding `grpc_listen_addr`. The in-process
    /// stack binds every service's port before starting any, so that peers know each other's
    /// addresses and no other process can take a port in between. Never read from configuration.
    #[serde(skip)]
    pub prebound: Option<PreboundListener>,
}

/// A bound TCP listener handed to one [`GrpcServer`]; the first server to bind takes it.
#[derive(Debug, Clone)]
pub struct PreboundListener(Arc<Mutex<Option<std::net::TcpListener>>>);

impl PreboundListener {
    /// Wraps a listener bound by the caller.
    pub fn new(listener: std::net::TcpListener) -> Self {
        Self(Arc::new(Mutex::new(Some(listener))))
    }

    fn take(&self) -> Option<std::net::TcpListener> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }
}

fn default_listen_addr() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 50051))
}

fn default_max_rpc_timeout() -> Duration {
    Duration::from_secs(30)
}

fn default_drain_period() -> Duration {
    Duration::from_secs(5)
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            grpc_listen_addr: default_listen_addr(),
            max_rpc_timeout: default_max_rpc_timeout(),
            drain_period: default_drain_period(),
            prebound: None,
        }
    }
}

/// A bound, not yet serving gRPC server. Binding first lets tests learn the port before serving.
#[derive(Debug)]
pub struct GrpcServer {
    service: &'static str,
    listener: TcpListener,
    settings: ServerSettings,
    health: HealthReporter,
    health_service:
        tonic_health::pb::health_server::HealthServer<tonic_health::server::HealthService>,
}

impl GrpcServer {
    /// Binds the listener for `service` (its name in spans and logs); health answers NOT_SERVING
    /// until [`Readiness::serving`] is called.
    pub async fn bind(service: &'static str, settings: ServerSettings) -> std::io::Result<Self> {
        crate::tls::install_crypto_provider();
        let listener = match settings.prebound.as_ref().and_then(PreboundListener::take) {
            Some(listener) => {
                listener.set_nonblocking(true)?;
                TcpListener::from_std(listener)?
            }
            None => TcpListener::bind(settings.grpc_listen_addr).await?,
        };
        let health = HealthReporter::new();
        let health_service = tonic_health::pb::health_server::HealthServer::new(
            tonic_health::server::HealthService::from_health_reporter(health.clone()),
        );
        Ok(Self {
            service,
            listener,
            settings,
            health,
            health_service,
        })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// A handle to flip the health status of `names` (and the whole server, `""`).
    pub fn readiness(&self, names: &[&'static str]) -> Readiness {
        let mut all = vec![""];
        all.extend_from_slice(names);
        Readiness {
            reporter: self.health.clone(),
            names: all,
        }
    }

    /// Serves `routes` until `shutdown` fires, then reports NOT_SERVING for the drain period and
    /// finishes in-flight calls before returning.
    pub async fn serve(
        self,
        routes: Routes,
        readiness: Readiness,
        shutdown: CancellationToken,
    ) -> Result<(), tonic::transport::Error> {
        readiness.not_serving().await;
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(onramp_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|error| {
                tracing::error!(%error, "reflection descriptors are invalid");
            })
            .ok();
        let drain = self.settings.drain_period;
        let service = self.service;
        // In-flight calls get the longest any call may run; a client holding a stream open past
        // that (a health Watch, say) does not keep the process from exiting.
        let grace = drain + self.settings.max_rpc_timeout;
        let stopping = shutdown.clone();
        let signal = async move {
            shutdown.cancelled().await;
            readiness.not_serving().await;
            tracing::info!(
                drain_ms = drain.as_millis() as u64,
                "draining before shutdown"
            );
            tokio::time::sleep(drain).await;
        };
        // Without TCP_NODELAY, Nagle's algorithm holds small responses back ~40 ms per call.
        let incoming = TcpIncoming::from(self.listener).with_nodelay(Some(true));
        let server = tonic::transport::Server::builder()
            .timeout(self.settings.max_rpc_timeout)
            .trace_fn(move |request| server_span(service, request))
            // Outermost: a call is timed whole, and its status is the one the client receives.
            .layer(RpcMetricsLayer::default())
            .layer(DeadlineLayer::new(self.settings.max_rpc_timeout))
            .add_routes(routes)
            .add_service(self.health_service)
            .add_optional_service(reflection)
            .serve_with_incoming_shutdown(incoming, signal);
        tokio::select! {
            outcome = server => outcome,
            () = async { stopping.cancelled().await; tokio::time::sleep(grace).await } => {
                tracing::warn!("calls still open after the shutdown grace; closing them");
                Ok(())
            }
        }
    }
}

/// Flips the health status a server reports.
#[derive(Debug, Clone)]
pub struct Readiness {
    reporter: HealthReporter,
    names: Vec<&'static str>,
}

impl Readiness {
    /// Reports SERVING: dependencies are reachable and migrations are applied.
    pub async fn serving(&self) {
        self.set(ServingStatus::Serving).await;
    }

    /// Reports NOT_SERVING: starting up or draining.
    pub async fn not_serving(&self) {
        self.set(ServingStatus::NotServing).await;
    }

    async fn set(&self, status: ServingStatus) {
        for name in &self.names {
            self.reporter.set_service_status(*name, status).await;
        }
    }
}

/// One span per RPC, continuing the caller's trace, recording the deadline the caller sent.
fn server_span(service: &'static str, request: &http::Request<()>) -> tracing::Span {
    let path = request.uri().path();
    let timeout_ms = request_budget(request.headers()).map(|budget| budget.as_millis() as u64);
    let span = tracing::info_span!(
        "grpc.server",
        otel.name = %path.trim_start_matches('/'),
        otel.kind = "server",
        onramp.service = service,
        rpc.system = "grpc",
        rpc.method = %path,
        rpc.grpc.timeout_ms = timeout_ms,
    );
    // A malformed or absent traceparent starts a new trace; that is not an error worth reporting.
    let _ = span.set_parent(trace_context::extract(request.headers()));
    span
}
