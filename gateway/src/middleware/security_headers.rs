//! Security headers on every response the gateway sends (errors, 404s, 429s and preflights too):
//! the API serves JSON only, so nothing may be sniffed as HTML, framed, or given a referrer; HSTS
//! tells browsers to use HTTPS only; anything a credential produced is never stored by a cache.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use http::{HeaderValue, header};

use crate::auth::CookiePolicy;

/// What the stamp needs.
#[derive(Debug, Clone)]
pub(crate) struct SecurityHeaders {
    /// `Strict-Transport-Security`, unless turned off.
    pub(crate) hsts: Option<HeaderValue>,
    pub(crate) cookies: CookiePolicy,
}

impl SecurityHeaders {
    pub(crate) fn new(strict_transport_security: &str, cookies: CookiePolicy) -> Self {
        let hsts = Some(strict_transport_security)
            .filter(|value| !value.is_empty())
            .and_then(|value| HeaderValue::try_from(value).ok());
        Self { hsts, cookies }
    }
}

/// Stamps the headers (each unless the handler chose its own), and `Cache-Control: no-store` on
/// every response to a credentialed request or that sets a session cookie.
pub(crate) async fn stamp(
    State(config): State<SecurityHeaders>,
    request: Request,
    next: Next,
) -> Response {
    let credentialed = request.headers().contains_key(header::AUTHORIZATION)
        || config.cookies.has_session_cookie(request.headers());
    let mut response = next.run(request).await;
    let sets_cookie = response.headers().contains_key(header::SET_COOKIE);
    let headers = response.headers_mut();
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ];
    for (name, value) in fixed {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    if let Some(hsts) = &config.hsts {
        headers
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(hsts.clone());
    }
    if credentialed || sets_cookie {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
