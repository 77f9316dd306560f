//! Security headers on every response the gateway sends (errors, 404s, 429s and preflights too):
//! the API serves JSON only, so nothing may be sniffed as HTML, framed, or given a referrer; HSTS
//! tells browsers to use HTTPS only; anything a credential produced is never stored by a cache.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::CookiePolicy;

/// One layer per header every response carries, each unless the handler chose its own (the web
/// app's pages set their own CSP): the fixed ones, and `Strict-Transport-Security` unless `hsts`
/// is empty.
pub(crate) fn stamps(hsts: &str) -> Vec<SetResponseHeaderLayer<HeaderValue>> {
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ]
    .map(|(name, value)| (name, HeaderValue::from_static(value)));
    let hsts = (HeaderValue::try_from(hsts).ok())
        .filter(|value| !value.is_empty())
        .map(|value| (header::STRICT_TRANSPORT_SECURITY, value));
    (fixed.into_iter().chain(hsts))
        .map(|(name, value)| SetResponseHeaderLayer::if_not_present(name, value))
        .collect()
}

/// `Cache-Control: no-store` on every response to a credentialed request or that sets a session
/// cookie (it depends on the request, so it is not one of the [`stamps`]).
pub(crate) async fn no_store(
    State(cookies): State<CookiePolicy>,
    request: Request,
    next: Next,
) -> Response {
    let credentialed = request.headers().contains_key(header::AUTHORIZATION)
        || cookies.has_session_cookie(request.headers());
    let mut response = next.run(request).await;
    if credentialed || response.headers().contains_key(header::SET_COOKIE) {
        let no_store = HeaderValue::from_static("no-store");
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, no_store);
    }
    response
}
