//! Startup as a library: [`Application::build`] binds (port 0 in tests), [`Application::run_until_stopped`] serves.

use std::net::SocketAddr;

use axum::{Extension, Router, middleware, serve::ListenerExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::{
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
};

use crate::{
    auth::{CookiePolicy, Verifier},
    clients::Peers,
    config::Config,
    middleware::{
        budget, client_ip, cors,
        csrf::{self, CsrfGuard},
        json_body::{self, JsonRules},
        problem_fallback,
        rate_limit::{self, RateLimiter},
        security_headers, trace,
    },
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
            peers: std::sync::Arc::new(Peers::connect(&config)?),
            readiness_timeout: config.readiness_timeout,
        };
        let verifier = Verifier::new(
            state.peers.identity(),
            &config.token_audience,
            config.clock.clone(),
        );
        let edge = &config.edge;
        let cookies = CookiePolicy::new(edge);
        let csrf_guard = CsrfGuard {
            allowed_origins: edge.cors_allowed_origins.clone().into(),
            cookies: cookies.clone(),
        };
        let json_rules = JsonRules {
            max_bytes: edge.json_body_limit_bytes,
            max_depth: edge.json_max_depth,
        };
        // Innermost first (each `layer` wraps what is there): the rate limit refuses before the
        // CSRF check, which refuses before a body is read, which happens before the budget starts.
        let mut api = routes::api(state.clone())
            .layer(middleware::from_fn_with_state(
                config.request_budget,
                budget::enforce,
            ))
            .layer(middleware::from_fn_with_state(
                json_rules,
                json_body::enforce,
            ))
            .layer(middleware::from_fn_with_state(csrf_guard, csrf::protect));
        if let Some(limiter) = RateLimiter::new(edge)? {
            api = api.layer(middleware::from_fn_with_state(limiter, rate_limit::enforce));
        }
        let api = api
            .layer(Extension(verifier))
            .layer(Extension(cookies.clone()));
        let trusted_proxy_header = config
            .trusted_proxy_header
            .as_deref()
            .map(http::HeaderName::try_from)
            .transpose()?;
        let mut router = routes::probes(state).merge(api);
        if let Some(dev_routes) = config.dev_routes.clone() {
            router = router.merge(dev_routes);
        }
        let router = router.layer(
            // Outermost first: every response (preflights and errors too) gets CORS and, when
            // credentialed, no-store; the request id exists before the span that records it; every error
            // leaves as problem+json (inside the span, so it carries the trace id); the client
            // IP is known before the rate limit counts it.
            ServiceBuilder::new()
                // Outermost, so the status is the one the client gets. Router::layer runs after
                // routing: the duration is labelled with the route template, never the raw path.
                .layer(middleware::from_fn(onramp_kit::metrics::http::track))
                .layer(middleware::from_fn_with_state(
                    cookies,
                    security_headers::no_store,
                ))
                .layer(cors::layer(&edge.cors_allowed_origins))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(middleware::from_fn(trace::continue_trace))
                .layer(middleware::from_fn(problem_fallback::ensure))
                .layer(middleware::from_fn_with_state(
                    trusted_proxy_header,
                    client_ip::derive,
                ))
                .layer(RequestBodyLimitLayer::new(config.body_limit_bytes)),
        );
        // Outermost of all: every response, whatever answered it, carries the security headers.
        let stamps = security_headers::stamps(&edge.strict_transport_security);
        let router = stamps
            .into_iter()
            .fold(router, |router, stamp| router.layer(stamp));
        let listener = TcpListener::bind(config.http_listen_addr).await?;
        Ok(Self { listener, router })
    }

    /// Where the HTTP server listens.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The router as served, for tests that drive it without a socket (`ServiceExt::oneshot`).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Serves until `shutdown` fires, then finishes in-flight requests.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        // Without TCP_NODELAY, Nagle's algorithm holds small responses back ~40 ms each.
        let listener = self.listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        // The peer address keys the rate limit when no trusted proxy header names the client.
        let app = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await?;
        Ok(())
    }
}
