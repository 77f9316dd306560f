//! Rate limits at the edge: one global limit per client over every API route, and per-route limits
//! (`RATE_LIMIT_GLOBAL`, `RATE_LIMIT_ROUTES`), counted in Redis when `RATE_LIMIT_REDIS_URL` is set so
//! every replica shares one count. A client over a limit gets `429` problem+json (`RATE_LIMITED`)
//! with `Retry-After`.
//!
//! The client is the IP from the trusted proxy header (`middleware::client_ip`), else the TCP peer.
//! Probes are not limited (they are routed outside the API router). Stripe's webhook deliveries are
//! not counted against the global per-client limit either: Stripe sends every tenant's events from a
//! handful of addresses, so a per-IP budget sized for one browser would make Stripe's retries pile up
//! exactly when traffic peaks; billing checks their signatures cheaply (no database write for a bad
//! one). A per-route limit configured explicitly for a webhook route still applies.

mod store;

use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::Method;
use onramp_kit::{ApiError, Code, config::ExposeSecret as _};

use crate::{
    config::{EdgeConfig, Limit},
    middleware::{client_ip::CLIENT_IP_HEADER, header_str, is_webhook},
    problem::Problem,
};
use store::{MemoryStore, RedisStore, Store};

/// The configured limits and their counters. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct RateLimiter(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store: Store,
    prefix: String,
    global: Option<Limit>,
    routes: HashMap<(Method, String), Limit>,
}

impl RateLimiter {
    /// The limiter `config` describes; `None` when it configures no limit at all.
    pub(crate) fn new(config: &EdgeConfig) -> anyhow::Result<Option<Self>> {
        if config.rate_limit_global.is_none() && config.rate_limit_routes.is_empty() {
            return Ok(None);
        }
        let store = match &config.rate_limit_redis_url {
            Some(url) => Store::Redis(RedisStore::new(url.expose_secret())?),
            None => {
                tracing::warn!(
                    "RATE_LIMIT_REDIS_URL is not set: rate limits are counted per gateway replica, \
                     so N replicas allow N times the configured rate"
                );
                Store::Memory(MemoryStore::default())
            }
        };
        let routes = config
            .rate_limit_routes
            .iter()
            .map(|route| ((route.method.clone(), route.path.clone()), route.limit))
            .collect();
        Ok(Some(Self(Arc::new(Inner {
            store,
            prefix: config.rate_limit_key_prefix.clone(),
            global: config.rate_limit_global,
            routes,
        }))))
    }

    /// Counts the hit on `key`; the problem to answer if it is over `limit`, counted in
    /// `onramp_rate_limit_refusals_total` under the limit's `name` (`global`, or the route as
    /// configured: `POST /v1/auth/login` — a template, never a client's path or address).
    async fn check(&self, name: &str, key: &str, limit: Limit) -> Result<(), Problem> {
        let key = format!("{}:{key}", self.0.prefix);
        match self.0.store.hit(&key, limit.window).await {
            Some(hit) if hit.count > u64::from(limit.requests) => {
                metrics::counter!("onramp_rate_limit_refusals_total", "limit" => name.to_owned())
                    .increment(1);
                Err(Problem(
                    ApiError::new(
                        Code::RateLimited,
                        format!(
                            "more than {} requests in {}s; retry later",
                            limit.requests,
                            limit.window.as_secs()
                        ),
                    )
                    .with_retry_after(hit.resets_in),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Counts the request against the global and its route's limit; `429` past either.
pub(crate) async fn enforce(
    State(limiter): State<RateLimiter>,
    request: Request,
    next: Next,
) -> Response {
    let client = client(&request);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| (request.method().clone(), path.as_str().to_owned()));
    let webhook = route.as_ref().is_some_and(|(_, path)| is_webhook(path));
    if !webhook
        && let Some(limit) = limiter.0.global
        && let Err(problem) = limiter
            .check("global", &format!("global:{client}"), limit)
            .await
    {
        return problem.into_response();
    }
    if let Some((method, path)) = route
        && let Some(&limit) = limiter.0.routes.get(&(method.clone(), path.clone()))
        && let Err(problem) = limiter
            .check(
                &format!("{method} {path}"),
                &format!("route:{method}:{path}:{client}"),
                limit,
            )
            .await
    {
        return problem.into_response();
    }
    next.run(request).await
}

/// The client's key: the trusted-proxy IP, else the TCP peer's IP.
fn client(request: &Request) -> String {
    if let Some(ip) = header_str(request.headers(), CLIENT_IP_HEADER.as_str()) {
        return ip.to_owned();
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string())
}
