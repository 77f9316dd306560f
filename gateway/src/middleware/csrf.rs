//! CSRF protection for cookie-authenticated mutations.
//!
//! A request that carries a session cookie and no `Authorization` header may have been sent by the
//! browser on another site's behalf, so an unsafe method (anything but GET, HEAD, OPTIONS) must
//! show two things a forging page cannot: an `Origin` (or, failing that, `Referer`) on the CORS
//! allow-list, and an `X-CSRF-Token` header equal to the CSRF cookie (double submit: a page can only
//! echo a cookie it could read, i.e. one of this site's pages or an allowed origin's that received
//! the token in the login response). Bearer-authenticated requests are not sent by browsers on
//! their own, so they need neither; neither do requests without a session (they act as nobody).
//! Stripe's webhook carries no cookies and is exempt anyway: its signature is its authentication.
//!
//! The gateway's own origin (the web app it serves) is always allowed: an `Origin` equal to the
//! scheme and `Host` of the request itself. This is safe because a browser sets both headers and
//! no page can forge either: a page on another site sends its own origin, which differs from the
//! `Host` it targets. A rebinding domain that points at this server makes the two equal, but its
//! requests carry that domain's cookies, never this host's, so they are not cookie-authenticated
//! (and it cannot read this host's CSRF cookie for the double submit, which is still required).
//! The scheme is `https`, or `http` when cookies are not `Secure` or the host is a loopback name
//! (`onramp up` on a laptop), where no network attacker sits between browser and server.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, header};
use onramp_kit::Code;
use subtle::ConstantTimeEq as _;

use crate::{
    auth::{CookiePolicy, cookies},
    middleware::{header_str, is_webhook},
    problem::Problem,
};

/// What the check needs: the allowed origins and the cookie names.
#[derive(Debug, Clone)]
pub(crate) struct CsrfGuard {
    pub(crate) allowed_origins: Arc<[String]>,
    pub(crate) cookies: CookiePolicy,
}

/// Refuses a cookie-authenticated mutation without a matching token from an allowed origin (`403`).
pub(crate) async fn protect(
    State(guard): State<CsrfGuard>,
    request: Request,
    next: Next,
) -> Response {
    // GET, HEAD, OPTIONS and TRACE change nothing (and no route answers TRACE).
    let safe = request.method().is_safe();
    let headers = request.headers();
    let cookie_authenticated =
        !headers.contains_key(header::AUTHORIZATION) && guard.cookies.has_session_cookie(headers);
    if safe || !cookie_authenticated || is_webhook(request.uri().path()) {
        return next.run(request).await;
    }
    if let Err(why) = check(&guard, headers) {
        tracing::info!(why, "cookie-authenticated mutation refused");
        return Problem::new(Code::CsrfFailed, why).into_response();
    }
    next.run(request).await
}

fn check(guard: &CsrfGuard, headers: &HeaderMap) -> Result<(), &'static str> {
    let origin = request_origin(headers)
        .ok_or("a cookie-authenticated request must carry an Origin or Referer header")?;
    if !guard.allowed_origins.contains(&origin) && !is_own_origin(guard, headers, &origin) {
        return Err("the request's origin is not allowed to use this session");
    }
    let sent =
        header_str(headers, cookies::CSRF_HEADER).ok_or("the X-CSRF-Token header is missing")?;
    let expected = cookies::cookie(headers, guard.cookies.csrf)
        .ok_or("the CSRF cookie is missing; sign in again")?;
    // Compared in constant time: how long a wrong guess takes says nothing about the token.
    if !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
        return Err("the X-CSRF-Token header does not match the CSRF cookie");
    }
    Ok(())
}

/// The request's origin: `Origin`, else the scheme, host and port of `Referer`.
fn request_origin(headers: &HeaderMap) -> Option<String> {
    if let Some(origin) = header_str(headers, "origin") {
        // "null" (sandboxed frames, file: pages) is never on the list.
        return Some(origin.to_owned());
    }
    let referer = url::Url::parse(header_str(headers, "referer")?).ok()?;
    Some(referer.origin().ascii_serialization())
}

/// Whether `origin` is this server's own: the request's `Host` under an acceptable scheme.
fn is_own_origin(guard: &CsrfGuard, headers: &HeaderMap, origin: &str) -> bool {
    let Some(host) = header_str(headers, "host") else {
        return false;
    };
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    if !authority.eq_ignore_ascii_case(host) {
        return false;
    }
    match scheme {
        "https" => true,
        "http" => !guard.cookies.secure() || is_loopback(host),
        _ => false,
    }
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback(host: &str) -> bool {
    let name = if host.starts_with('[') {
        host.split_once(']')
            .map_or(host, |(name, _)| name)
            .trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or(host)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
