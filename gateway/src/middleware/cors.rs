//! CORS from the configured allow-list (`CORS_ALLOWED_ORIGINS`): a listed origin may call the API
//! with credentials (cookies) and read the headers a client needs; an unlisted origin gets no
//! `Access-Control-Allow-Origin`, so its page can read nothing. Preflights are answered here.

use std::time::Duration;

use http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The request headers a browser client may send cross-origin.
const ALLOWED_HEADERS: [HeaderName; 6] = [
    header::CONTENT_TYPE,
    header::AUTHORIZATION,
    HeaderName::from_static("x-csrf-token"),
    HeaderName::from_static("idempotency-key"),
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("x-request-id"),
];

/// The response headers a cross-origin page may read.
const EXPOSED_HEADERS: [HeaderName; 6] = [
    header::RETRY_AFTER,
    header::LOCATION,
    HeaderName::from_static("x-csrf-token"),
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("x-trace-id"),
    HeaderName::from_static("idempotent-replayed"),
];

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
        .allow_headers(ALLOWED_HEADERS)
        .expose_headers(EXPOSED_HEADERS)
        .max_age(Duration::from_secs(600))
}
