//! The web app: static files embedded in the binary at build time and served from the gateway's
//! own origin, so the browser's session cookies and double-submit CSRF work as they do for any
//! client of the API.
//!
//! Every GET or HEAD for a path outside the API (`/v1/…`, the probes, `/openapi.json`,
//! `/.well-known/…`) is the app: a file under `gateway/web/` when one matches, else `index.html`,
//! whose router draws the screen for the path (its own 404 screen for unknown ones). The API's
//! unknown paths stay problem+json 404s. Pages get a CSP of their own (scripts and styles only
//! from this origin, nothing inline, never framed); the API keeps `default-src 'none'`, which the
//! security-headers stamp adds to every response that has no CSP yet.

use axum::{
    body::Body,
    extract::Request,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, Method, StatusCode, header};
use include_dir::{Dir, include_dir};
use onramp_kit::Code;

use crate::problem::Problem;

static ASSETS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/web");

/// The pages' policy: only this origin's scripts, styles, images and API; no inline code (the app
/// has none), no plugins, no `<base>` rewriting, forms post only here, and no framing.
pub(crate) const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Path prefixes that belong to the API (their unknown paths are problem+json 404s).
const API_PREFIXES: [&str; 5] = [
    "/v1/",
    "/.well-known/",
    "/healthz",
    "/readyz",
    "/openapi.json",
];

/// Whether `path` is the API's rather than the app's.
pub(crate) fn is_api_path(path: &str) -> bool {
    path == "/v1" || API_PREFIXES.iter().any(|prefix| path.starts_with(prefix))
}

/// The router's fallback: the app for app paths, a problem+json 404 for the API's.
pub(crate) async fn fallback(request: Request) -> Response {
    let path = request.uri().path();
    if is_api_path(path) {
        return Problem::new(Code::NotFound, "no such route").into_response();
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, HeaderValue::from_static("GET, HEAD"))],
        )
            .into_response();
    }
    let relative = path.trim_start_matches('/');
    match ASSETS.get_file(relative).filter(|_| !relative.is_empty()) {
        Some(file) => asset(relative, file.contents(), true),
        None if looks_like_a_file(relative) => {
            // A missing script or stylesheet must not come back as the HTML page.
            Problem::new(Code::NotFound, "no such file").into_response()
        }
        None => match ASSETS.get_file("index.html") {
            Some(index) => asset("index.html", index.contents(), false),
            None => Problem::new(Code::NotFound, "the web app is not built in").into_response(),
        },
    }
}

/// Asset paths have an extension in their last segment; app routes (`/invites/abc`) do not.
fn looks_like_a_file(relative: &str) -> bool {
    relative
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

fn asset(name: &str, contents: &'static [u8], cacheable: bool) -> Response {
    // The files are not fingerprinted, so a browser revalidates rather than keep a stale app.
    let cache = if cacheable { "no-cache" } else { "no-store" };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(name)),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_CSP),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        Body::from(contents),
    )
        .into_response()
}

/// The media type of the few kinds of file the app ships.
fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        _ => "text/plain; charset=utf-8",
    }
}
