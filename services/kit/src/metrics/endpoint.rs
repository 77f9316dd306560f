//! `GET /metrics` in Prometheus text format, on its own listener (`METRICS_LISTEN_ADDR`), never
//! on a public port: the scrape shows internals (route names, pool sizes, outbox lag) that only the
//! monitoring namespace may read.

use std::net::SocketAddr;

use axum::{Router, http::header, response::IntoResponse, routing::get};
use tokio::task::JoinHandle;

/// The Prometheus text exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A running metrics endpoint. Dropping it leaves it serving until the runtime stops (a binary's
/// whole life); [`MetricsEndpoint::stop`] ends it sooner.
#[derive(Debug)]
pub struct MetricsEndpoint {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl MetricsEndpoint {
    /// The bound address (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The scrape URL, `http://addr/metrics`.
    pub fn url(&self) -> String {
        format!("http://{}/metrics", self.addr)
    }

    /// Stops serving.
    pub fn stop(self) {
        self.task.abort();
    }
}

/// The router answering `GET /metrics` (and 404 elsewhere).
pub fn router() -> Router {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], super::render())
}

/// Installs the recorder and serves `GET /metrics` on `listener`. Needs a Tokio runtime.
pub fn serve_listener(listener: std::net::TcpListener) -> std::io::Result<MetricsEndpoint> {
    super::install();
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router()).await {
            tracing::error!(%error, "the metrics endpoint stopped");
        }
    });
    Ok(MetricsEndpoint { addr, task })
}

/// Binds `addr` and serves `GET /metrics` there. Needs a Tokio runtime.
pub fn serve(addr: SocketAddr) -> std::io::Result<MetricsEndpoint> {
    serve_listener(std::net::TcpListener::bind(addr)?)
}
