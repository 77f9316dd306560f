//! CORS from the configured allow-list (`CORS_ALLOWED_ORIGINS`): a listed origin may call the API
//! with credentials (cookies) and read the headers a client needs; an unlisted origin gets no
//! `Access-Control-Allow-Origin`, so its page can read nothing. Preflights are answered here.

use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The request headers a browser client may send cross-origin.
const ALLOWED_HEADERS: &str =
    "content-type authorization x-csrf-token idempotency-key traceparent x-request-id";

/// The response headers a cross-origin page may read.
const EXPOSED_HEADERS: &str =
    "retry-after location x-csrf-token x-request-id x-trace-id idempotent-replayed";

fn names(list: &'static str) -> Vec<HeaderName> {
    list.split(' ').map(HeaderName::from_static).collect()
}

/// The CORS layer for `origins` (already validated as `scheme://host[:port]`).
pub(crate) fn layer(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::try_from(origin.as_str()).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers(names(ALLOWED_HEADERS))
        .expose_headers(names(EXPOSED_HEADERS))
        .max_age(Duration::from_secs(600))
}
