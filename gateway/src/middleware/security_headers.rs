//! Security headers on every response the gateway sends (errors, 404s, 429s and preflights too):
//! the API serves JSON only, so nothing may be sniffed as HTML, framed, or given a referrer; HSTS
//! tells browsers to use HTTPS only; anything a credential produced is never stored by a cache.

use axum::response::Response;
use http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::CookiePolicy;

/// The layers that stamp every response (one per header, each unless the handler chose its own: the
/// web app's pages set their own CSP): the fixed ones, and `Strict-Transport-Security` unless
/// `hsts` is empty.
pub(crate) struct Stamps {
    pub(crate) fixed: [SetResponseHeaderLayer<HeaderValue>; 4],
    pub(crate) hsts: Option<SetResponseHeaderLayer<HeaderValue>>,
}

/// The [`Stamps`] for `hsts` (the configured `Strict-Transport-Security` value).
pub(crate) fn stamps(hsts: &str) -> Stamps {
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ]
    .map(|(name, value)| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    });
    let hsts = (HeaderValue::try_from(hsts).ok())
        .filter(|value| !value.is_empty())
        .map(|value| {
            SetResponseHeaderLayer::if_not_present(header::STRICT_TRANSPORT_SECURITY, value)
        });
    Stamps { fixed, hsts }
}

/// Whether a request carries a credential (a bearer token or a session cookie): its response, like any
/// that sets a session cookie, gets [`no_store`].
pub(crate) fn credentialed(cookies: &CookiePolicy, headers: &http::HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION) || cookies.has_session_cookie(headers)
}

/// `Cache-Control: no-store` on every response to a credentialed request or that sets a session
/// cookie (it depends on the request, so it is not one of the [`stamps`]).
pub(crate) fn no_store(credentialed: bool, response: &mut Response) {
    if credentialed || response.headers().contains_key(header::SET_COOKIE) {
        let no_store = HeaderValue::from_static("no-store");
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, no_store);
    }
}
