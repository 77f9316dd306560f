//! `http_server_request_duration_seconds{http_route, http_request_method, http_response_status_code}`
//! for an axum router: apply [`track`] with `Router::layer(axum::middleware::from_fn(track))`, which
//! runs after routing, so the route *template* (`/v1/tenants/{id}`) is known; the raw path never
//! becomes a label. Requests no route matched share the route `unmatched`.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};

/// The route label of requests that matched no route (a 404 from the fallback, a scanner's probe).
pub const UNMATCHED: &str = "unmatched";

/// Times one request, from its arrival at this layer to its response head.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |path| path.as_str().to_owned());
    let method = super::method_label(request.method());
    let response = next.run(request).await;
    metrics::histogram!(
        "http_server_request_duration_seconds",
        "http_route" => route,
        "http_request_method" => method,
        "http_response_status_code" => response.status().as_u16().to_string(),
    )
    .record(started.elapsed().as_secs_f64());
    response
}
