//! Cross-cutting HTTP middleware: trace continuation, the per-request time budget, the client IP,
//! and the browser-facing edge (CORS, CSRF, security headers, strict JSON bodies, rate limits).

pub(crate) mod budget;
pub(crate) mod client_ip;
pub(crate) mod cors;
pub(crate) mod csrf;
pub(crate) mod json_body;
pub(crate) mod rate_limit;
pub(crate) mod security_headers;
pub(crate) mod trace;
