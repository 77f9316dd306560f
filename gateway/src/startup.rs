//! Startup as a library: [`Application::build`] binds (port 0 in tests), [`Application::run_until_stopped`] serves.

use std::net::SocketAddr;

use axum::{Extension, Router, middleware, serve::ListenerExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::{
    limit::RequestBodyLimitLayer,
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
};

use crate::{
    auth::{CookiePolicy, Verifier},
    clients::Peers,
    config::Config,
    middleware::{
        budget::BudgetLayer,
        cors,
        csrf::{self, CsrfGuard},
        edge::{InnerLayer, OuterLayer},
        json_body::{self, JsonRules},
        rate_limit::{self, RateLimiter},
        request_id::MakeRandomUuid,
        security_headers,
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
        let rate_limit = RateLimiter::new(edge)?
            .map(|limiter| middleware::from_fn_with_state(limiter, rate_limit::enforce));
        // Outermost first, in one `Router::layer` call (each call boxes every route again): the
        // rate limit refuses before the CSRF check, which refuses before a body is read, which
        // happens before the budget starts.
        let api = routes::api(state.clone()).layer(
            ServiceBuilder::new()
                .layer(Extension(cookies.clone()))
                .layer(Extension(verifier))
                .option_layer(rate_limit)
                .layer(middleware::from_fn_with_state(csrf_guard, csrf::protect))
                .layer(middleware::from_fn_with_state(
                    json_rules,
                    json_body::enforce,
                ))
                .layer(BudgetLayer(config.request_budget)),
        );
        let trusted_proxy_header = config
            .trusted_proxy_header
            .as_deref()
            .map(http::HeaderName::try_from)
            .transpose()?;
        let mut router = routes::probes(state).merge(api);
        if let Some(dev_routes) = config.dev_routes.clone() {
            router = router.merge(dev_routes);
        }
        // Outermost of all: every response, whatever answered it, carries the security headers.
        let stamps = security_headers::stamps(&edge.strict_transport_security);
        let [nosniff, referrer, frame, csp] = stamps.fixed;
        // One `Router::layer` call: each call boxes every route's service (and its future) again.
        let router = router.layer(
            // Outermost first: every response (preflights and errors too) gets CORS and, when
            // credentialed, no-store; the request id exists before the span that records it; every error
            // leaves as problem+json (inside the span, so it carries the trace id); the client
            // IP is known before the rate limit counts it.
            ServiceBuilder::new()
                .layer(nosniff)
                .layer(referrer)
                .layer(frame)
                .layer(csp)
                .option_layer(stamps.hsts)
                // The status is the one the client gets. Router::layer runs after routing: the
                // duration is labelled with the route template, never the raw path.
                .layer(OuterLayer { cookies })
                .layer(cors::layer(&edge.cors_allowed_origins))
                .layer(SetRequestIdLayer::x_request_id(MakeRandomUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(InnerLayer {
                    trusted_proxy_header,
                })
                .layer(RequestBodyLimitLayer::new(config.body_limit_bytes)),
        );
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
