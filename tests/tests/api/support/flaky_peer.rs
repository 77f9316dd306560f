//! A gRPC proxy in front of a real service that answers every other call of one method with
//! `UNAVAILABLE` (as an overloaded or half-dead replica does) and forwards everything else, counting
//! the calls of that method it saw: what a retry budget is measured against.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{Response, StatusCode},
};
use tokio::{net::TcpListener, task::JoinHandle};
use tonic::{codegen::Service as _, transport::Channel};

struct Inner {
    method: &'static str,
    upstream: Channel,
    calls: AtomicU64,
}

/// The proxy, serving on a loopback port until dropped.
pub(crate) struct FlakyPeer {
    addr: SocketAddr,
    inner: Arc<Inner>,
    serving: JoinHandle<()>,
}

impl Drop for FlakyPeer {
    fn drop(&mut self) {
        self.serving.abort();
    }
}

impl FlakyPeer {
    /// Proxies a fresh loopback port to `upstream`, failing every other call of `method` (a path
    /// such as `/onramp.common.v1.ServiceInfo/Describe`), the first included.
    pub(crate) async fn start(upstream: SocketAddr, method: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let upstream = Channel::from_shared(format!("http://{upstream}"))
            .expect("uri")
            .connect_lazy();
        let inner = Arc::new(Inner {
            method,
            upstream,
            calls: AtomicU64::new(0),
        });
        let router = Router::new().fallback(relay).with_state(inner.clone());
        let serving = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serve");
        });
        Self {
            addr,
            inner,
            serving,
        }
    }

    /// Where callers connect instead of the service.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many calls of the method arrived (answered or refused).
    pub(crate) fn calls(&self) -> u64 {
        self.inner.calls.load(Ordering::SeqCst)
    }
}

async fn relay(State(inner): State<Arc<Inner>>, request: Request) -> Response<Body> {
    if request.uri().path() == inner.method
        && inner.calls.fetch_add(1, Ordering::SeqCst).is_multiple_of(2)
    {
        return unavailable();
    }
    let mut upstream = inner.upstream.clone();
    let request = request.map(tonic::body::Body::new);
    if futures::future::poll_fn(|cx| upstream.poll_ready(cx))
        .await
        .is_err()
    {
        return unavailable();
    }
    match upstream.call(request).await {
        Ok(response) => response.map(Body::new),
        Err(_) => unavailable(),
    }
}

/// A trailers-only gRPC answer: `UNAVAILABLE`, the status that promises nothing was processed.
fn unavailable() -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/grpc")
        .header("grpc-status", "14")
        .header("grpc-message", "flaky peer")
        .body(Body::empty())
        .expect("response")
}
