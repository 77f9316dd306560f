//! Gateway configuration, from the environment (see the README for the full reference).

mod edge;

use std::{net::SocketAddr, time::Duration};

use onramp_kit::{
    config::{ConfigSources, Variables},
    telemetry::TelemetryConfig,
};
use serde::Deserialize;

pub use edge::{EdgeConfig, Limit, RouteLimit, SameSite};

/// Everything the gateway needs to run.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// `HTTP_LISTEN_ADDR`: where the HTTP server listens; default `0.0.0.0:8080`.
    #[serde(default = "default_listen_addr")]
    pub http_listen_addr: SocketAddr,
    /// `IDENTITY_SERVICE_ADDR`: the identity service, e.g. `http://identity:50051`.
    pub identity_service_addr: String,
    /// `TENANT_PROVISIONING_SERVICE_ADDR`: the tenant-provisioning service.
    pub tenant_provisioning_service_addr: String,
    /// `BILLING_SERVICE_ADDR`: the billing service.
    pub billing_service_addr: String,
    /// `ONBOARDING_SERVICE_ADDR`: the onboarding service.
    pub onboarding_service_addr: String,
    /// `REQUEST_BUDGET`: the time each HTTP request may take end to end, passed to every RPC as its
    /// deadline; default `10s`.
    #[serde(default = "default_request_budget", with = "humantime_serde")]
    pub request_budget: Duration,
    /// `READINESS_TIMEOUT`: how long `/readyz` waits for each service's health answer; default `1s`.
    #[serde(default = "default_readiness_timeout", with = "humantime_serde")]
    pub readiness_timeout: Duration,
    /// `BODY_LIMIT_BYTES`: the largest request body accepted; default 1 MiB.
    #[serde(default = "default_body_limit")]
    pub body_limit_bytes: usize,
    /// `TRUSTED_PROXY_HEADER`: the header the trusted load balancer sets with the client's address
    /// (e.g. `x-forwarded-for`; its last entry is used). Unset: no client IP is derived, and per-IP
    /// limits count every client under one shared key.
    #[serde(default)]
    pub trusted_proxy_header: Option<String>,
    /// Log format, OTLP export and `METRICS_LISTEN_ADDR` (`GET /metrics`, off the public port).
    #[serde(flatten)]
    pub telemetry: TelemetryConfig,
    /// `TOKEN_AUDIENCE`: the `aud` access tokens must carry (identity's `TOKEN_AUDIENCE`); default
    /// `onramp-api`.
    #[serde(default = "default_token_audience")]
    pub token_audience: String,
    /// CORS, session cookies, security headers, JSON limits and rate limits.
    #[serde(flatten)]
    pub edge: EdgeConfig,
    /// Extra routes served next to the API, outside its auth and CSRF layers: the in-process stack's
    /// development pages (`GET /v1/dev/mailbox`). Never set from configuration, so a deployed
    /// gateway has none; not in the OpenAPI document.
    #[serde(skip)]
    pub dev_routes: Option<axum::Router>,
    /// Wall-clock time for token expiry and the verification wall; tests share an adjustable one
    /// with identity. Not configurable by env.
    #[serde(skip)]
    pub clock: onramp_kit::auth::Clock,
}

impl Config {
    /// A config with defaults for everything but the peer addresses.
    pub fn new(http_listen_addr: SocketAddr, peers: [String; 4]) -> Self {
        let [identity, tenancy, billing, onboarding] = peers;
        Self {
            http_listen_addr,
            identity_service_addr: identity,
            tenant_provisioning_service_addr: tenancy,
            billing_service_addr: billing,
            onboarding_service_addr: onboarding,
            request_budget: default_request_budget(),
            readiness_timeout: default_readiness_timeout(),
            body_limit_bytes: default_body_limit(),
            trusted_proxy_header: None,
            telemetry: TelemetryConfig::default(),
            token_audience: default_token_audience(),
            edge: EdgeConfig::default(),
            dev_routes: None,
            clock: onramp_kit::auth::Clock::system(),
        }
    }

    /// Loads the config as the `gateway` binary does (see [`onramp_kit::config`]).
    pub fn load(sources: &ConfigSources) -> Result<Self, Box<onramp_kit::config::ConfigError>> {
        sources.load_derived(
            "gateway",
            Self::derived_from_app_base_url,
            Variables::default(),
            Variables::default(),
        )
    }

    /// The defaults that follow from `APP_BASE_URL`: the app's own origin may call with credentials.
    pub fn derived_from_app_base_url(app_base_url: &str) -> Variables {
        match url::Url::parse(app_base_url) {
            Ok(url) => {
                Variables::new([("CORS_ALLOWED_ORIGINS", url.origin().ascii_serialization())])
            }
            // An unparsable APP_BASE_URL derives nothing; the services that use it say why.
            Err(_) => Variables::default(),
        }
    }
}

fn default_listen_addr() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8080))
}

fn default_request_budget() -> Duration {
    Duration::from_secs(10)
}

fn default_readiness_timeout() -> Duration {
    Duration::from_secs(1)
}

fn default_body_limit() -> usize {
    1024 * 1024
}

fn default_token_audience() -> String {
    "onramp-api".to_owned()
}
