//! Startup as a library: [`Application::build`] binds (port 0 in tests), [`Application::run_until_stopped`] serves.

use std::net::SocketAddr;

use axum::{Extension, Router, middleware, serve::ListenerExt};
use onramp_kit::retry::RetryPolicy;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::{
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
};

use crate::{
    auth::Verifier,
    clients::Peers,
    config::Config,
    middleware::{budget, client_ip, trace},
    routes::{self, AppState},
};

/// The gateway, bound and ready to run.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Binds the HTTP listener and prepares (lazy) channels to every service.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let state = AppState {
            peers: Peers::connect(&config)?,
            readiness_timeout: config.readiness_timeout,
            retry: RetryPolicy::default(),
        };
        let verifier = Verifier::new(
            state.peers.identity(),
            &config.token_audience,
            config.clock.clone(),
        );
        let api = routes::api(state.clone())
            .layer(middleware::from_fn_with_state(
                config.request_budget,
                budget::enforce,
            ))
            .layer(Extension(verifier));
        let router = routes::probes(state).merge(api).layer(
            // Outermost first: the request id exists before the span that records it.
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(middleware::from_fn(trace::continue_trace))
                .layer(RequestBodyLimitLayer::new(config.body_limit_bytes)),
        );
        let trusted_proxy_header = config
            .trusted_proxy_header
            .as_deref()
            .map(http::HeaderName::try_from)
            .transpose()?;
        let router = router.layer(middleware::from_fn_with_state(
            trusted_proxy_header,
            client_ip::derive,
        ));
        let listener = TcpListener::bind(config.http_listen_addr).await?;
        Ok(Self { listener, router })
    }

    /// Where the HTTP server listens.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` fires, then finishes in-flight requests.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        // Without TCP_NODELAY, Nagle's algorithm holds small responses back ~40 ms each.
        let listener = self.listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        axum::serve(listener, self.router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await?;
        Ok(())
    }
}
