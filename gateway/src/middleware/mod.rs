//! Cross-cutting HTTP middleware: trace continuation, the per-request time budget, the client IP,
//! and the browser-facing edge (CORS, CSRF, security headers, strict JSON bodies, rate limits).

pub(crate) mod budget;
pub(crate) mod client_ip;
pub(crate) mod cors;
pub(crate) mod csrf;
pub(crate) mod edge;
pub(crate) mod json_body;
pub(crate) mod problem_fallback;
pub(crate) mod rate_limit;
pub(crate) mod request_id;
pub(crate) mod security_headers;
pub(crate) mod trace;

/// A request header's value as text, if it is there and is visible ASCII.
pub(crate) fn header_str<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok()
}

/// Stripe's webhook routes: they take a raw body Stripe signed and carry no session, so the
/// browser-facing checks (CSRF, strict JSON bodies, the per-client limit) let them through.
fn is_webhook(path: &str) -> bool {
    path.starts_with("/v1/webhooks/")
}
