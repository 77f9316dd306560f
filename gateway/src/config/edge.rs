//! The browser-facing and abuse-facing settings of the edge: CORS, session cookies, security
//! headers, body limits and rate limits.

use std::{fmt, str::FromStr, time::Duration};

use onramp_kit::config::SecretString;
use serde::{Deserialize, Deserializer, de};

/// Browser support and edge hardening (all from the environment; a missing field takes its value
/// from [`EdgeConfig::default`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EdgeConfig {
    /// `CORS_ALLOWED_ORIGINS`: the browser origins (`https://app.example.com`, comma-separated) that
    /// may call the API with credentials, and that cookie-authenticated mutations must come from.
    /// Empty (the default): no cross-origin access, and cookie-authenticated mutations are refused.
    #[serde(deserialize_with = "comma_list")]
    pub cors_allowed_origins: Vec<String>,
    /// `COOKIE_SECURE`: session cookies carry `Secure` and the `__Host-`/`__Secure-` name prefixes;
    /// default `true`. Only a plain-HTTP development setup turns it off.
    pub cookie_secure: bool,
    /// `COOKIE_SAME_SITE`: `lax` (default), `strict`, or `none` (frontend on another site; needs
    /// `COOKIE_SECURE`).
    pub cookie_same_site: SameSite,
    /// `STRICT_TRANSPORT_SECURITY`: the HSTS header value on every response; empty turns it off.
    /// Default `max-age=31536000; includeSubDomains`.
    pub strict_transport_security: String,
    /// `JSON_BODY_LIMIT_BYTES`: the largest JSON request body; default 64 KiB (`BODY_LIMIT_BYTES`
    /// still bounds the raw webhook bodies).
    pub json_body_limit_bytes: usize,
    /// `JSON_MAX_DEPTH`: the deepest nesting of arrays and objects a JSON body may have; default 32.
    pub json_max_depth: usize,
    /// `RATE_LIMIT_REDIS_URL`: the Redis every replica counts in (`redis://host:6379/0`). Unset: each
    /// replica counts alone, in process, and says so at startup.
    pub rate_limit_redis_url: Option<SecretString>,
    /// `RATE_LIMIT_KEY_PREFIX`: the prefix of every counter key; default `onramp:ratelimit`.
    pub rate_limit_key_prefix: String,
    /// `RATE_LIMIT_GLOBAL`: requests per client (IP) over all API routes, e.g. `600/1m`. Unset: none.
    pub rate_limit_global: Option<Limit>,
    /// `RATE_LIMIT_ROUTES`: per-route limits per client, comma-separated `METHOD /path/{param}=N/window`
    /// (the route as declared), e.g. `POST /v1/auth/login=10/1m,POST /v1/auth/signup=5/1m`.
    #[serde(deserialize_with = "route_limits")]
    pub rate_limit_routes: Vec<RouteLimit>,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        Self {
            cors_allowed_origins: Vec::new(),
            cookie_secure: true,
            cookie_same_site: SameSite::default(),
            strict_transport_security: "max-age=31536000; includeSubDomains".to_owned(),
            json_body_limit_bytes: 64 * 1024,
            json_max_depth: 32,
            rate_limit_redis_url: None,
            rate_limit_key_prefix: "onramp:ratelimit".to_owned(),
            rate_limit_global: None,
            rate_limit_routes: Vec::new(),
        }
    }
}

/// The cookies' `SameSite` attribute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SameSite {
    /// Sent on top-level navigations from other sites, never on their subrequests.
    #[default]
    Lax,
    /// Never sent from other sites.
    Strict,
    /// Sent cross-site too (CSRF protection then rests on the token and the origin check).
    None,
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Lax => "Lax",
            Self::Strict => "Strict",
            Self::None => "None",
        })
    }
}

/// `N/window`: at most `requests` per `window` (a humantime duration: `1m`, `10s`, `1h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed per window.
    pub requests: u32,
    /// The window.
    pub window: Duration,
}

impl FromStr for Limit {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let (requests, window) =
            split(raw, '/').ok_or_else(|| bad(raw, "expected N/window, e.g. 600/1m"))?;
        let requests = requests
            .parse()
            .map_err(|_| bad(raw, "the count must be a whole number"))?;
        let window = humantime_serde::re::humantime::parse_duration(window)
            .map_err(|error| bad(raw, format_args!("window: {error}")))?;
        if requests == 0 || window.is_zero() {
            return Err(bad(raw, "count and window must be positive"));
        }
        Ok(Self { requests, window })
    }
}

/// Why the setting `raw` does not parse.
fn bad(raw: &str, why: impl fmt::Display) -> String {
    format!("`{raw}`: {why}")
}

/// `raw` split at the first `at`, both sides trimmed.
fn split(raw: &str, at: char) -> Option<(&str, &str)> {
    let (left, right) = raw.trim().split_once(at)?;
    Some((left.trim(), right.trim()))
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(de::Error::custom)
    }
}

/// A limit on one route (method and declared path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteLimit {
    /// `POST`, `GET`, ...
    pub method: http::Method,
    /// The path as the router declares it (`/v1/tenants/{tenant_id}/invites`).
    pub path: String,
    /// How many, per how long.
    pub limit: Limit,
}

impl FromStr for RouteLimit {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let (route, limit) = raw
            .trim()
            .rsplit_once('=')
            .ok_or_else(|| bad(raw, "expected `METHOD /path=N/window`"))?;
        let (method, path) =
            split(route, ' ').ok_or_else(|| bad(raw, "expected `METHOD /path`"))?;
        let method = method
            .to_ascii_uppercase()
            .parse()
            .map_err(|_| bad(raw, "bad method"))?;
        if !path.starts_with('/') {
            return Err(bad(raw, "the path must start with /"));
        }
        let (path, limit) = (path.to_owned(), limit.parse()?);
        Ok(Self {
            method,
            path,
            limit,
        })
    }
}

/// A comma-separated string or a list.
#[derive(Deserialize)]
#[serde(untagged)]
enum ListOrString {
    List(Vec<String>),
    String(String),
}

fn list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(match ListOrString::deserialize(deserializer)? {
        ListOrString::List(items) => items,
        ListOrString::String(raw) => raw.split(',').map(str::to_owned).collect(),
    }
    .into_iter()
    .map(|item| item.trim().to_owned())
    .filter(|item| !item.is_empty())
    .collect())
}

fn comma_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let origins = list(deserializer)?;
    for origin in &origins {
        // An origin is scheme://host[:port], nothing more: browsers compare it byte for byte.
        let valid = (origin.starts_with("https://") || origin.starts_with("http://"))
            && !origin.ends_with('/')
            && origin.matches('/').count() == 2;
        if !valid {
            return Err(de::Error::custom(format!(
                "CORS_ALLOWED_ORIGINS: `{origin}` is not an origin like https://app.example.com"
            )));
        }
    }
    Ok(origins)
}

fn route_limits<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<RouteLimit>, D::Error> {
    list(deserializer)?
        .iter()
        .map(|raw| raw.parse().map_err(de::Error::custom))
        .collect()
}
