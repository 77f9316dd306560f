//! The CSRF check of cookie-authenticated mutations: the double-submit token, from an allowed
//! origin or the server's own.

use axum::Router;
use http::Method;
use serde_json::json;

use crate::{problem, request, router, send};

/// Whether the CSRF check lets a `POST /v1/billing/portal` with `headers` through to the sign-in
/// check (401 `UNAUTHENTICATED`) rather than refusing it (403 `CSRF_FAILED`).
async fn let_through(app: &Router, headers: &[(&str, &str)]) -> bool {
    let portal = request(Method::POST, "/v1/billing/portal", headers, Some(json!({})));
    let answer = send(app, portal).await;
    let (status, reason) = match answer.status().as_u16() {
        403 => (403, "CSRF_FAILED"),
        _ => (401, "UNAUTHENTICATED"),
    };
    let answer = problem(answer, status).await;
    assert_eq!(answer["reason"], reason, "{headers:?}");
    status == 401
}

#[tokio::test]
async fn a_cookie_mutation_needs_the_csrf_token_from_an_allowed_origin() {
    let app = router(|config| {
        config.edge.cors_allowed_origins = vec!["https://app.example".to_owned()];
    })
    .await;
    let cookies = "__Host-onramp_access=token; __Host-onramp_csrf=secret";
    let refused = [
        vec![("cookie", cookies)],
        vec![
            ("cookie", cookies),
            ("origin", "https://evil.example"),
            ("x-csrf-token", "secret"),
        ],
        vec![
            ("cookie", cookies),
            ("origin", "https://app.example"),
            ("x-csrf-token", "guess"),
        ],
        vec![("cookie", cookies), ("origin", "https://app.example")],
        // Without an Origin, the Referer's origin is the one checked.
        vec![
            ("cookie", cookies),
            ("referer", "https://evil.example/app.example"),
            ("x-csrf-token", "secret"),
        ],
        vec![
            ("cookie", cookies),
            ("referer", "not a url"),
            ("x-csrf-token", "secret"),
        ],
    ];
    // Refused without the token from an allowed origin; let through to the sign-in check with it
    // (or with a bearer token, which no page sends by itself).
    let allowed = [
        vec![
            ("cookie", cookies),
            ("origin", "https://app.example"),
            ("x-csrf-token", "secret"),
        ],
        vec![("cookie", cookies), ("authorization", "Bearer not-a-jwt")],
        vec![
            ("cookie", cookies),
            ("referer", "https://app.example/settings?tab=1"),
            ("x-csrf-token", "secret"),
        ],
    ];
    for headers in refused {
        assert!(!let_through(&app, &headers).await, "{headers:?}");
    }
    for headers in allowed {
        assert!(let_through(&app, &headers).await, "{headers:?}");
    }
}

#[tokio::test]
async fn the_own_origin_is_the_requests_host() {
    let secure = router(|_| {}).await;
    let secure_cookies = "__Host-onramp_access=token; __Host-onramp_csrf=secret";
    let plain = router(|config| config.edge.cookie_secure = false).await;
    let plain_cookies = "onramp_access=token; onramp_csrf=secret";
    let own = |host: &'static str, origin: &'static str| {
        let mut headers = vec![("origin", origin), ("x-csrf-token", "secret")];
        headers.extend((!host.is_empty()).then_some(("host", host)));
        headers
    };
    let app = "app.example:8443";
    let cases = [
        (own(app, "https://app.example:8443"), true),
        (own(app, "https://app.example"), false),
        (own(app, "https://evil.example:8443"), false),
        (own(app, "http://app.example:8443"), false),
        (own(app, "null"), false),
        (own("", "https://app.example"), false),
        // Plain http only where no network sits between browser and server, or cookies say so.
        (own("localhost:8080", "http://localhost:8080"), true),
        (own("127.0.0.1:9", "http://127.0.0.1:9"), true),
        (own("[::1]:9", "http://[::1]:9"), true),
    ];
    for (mut headers, allowed) in cases {
        headers.push(("cookie", secure_cookies));
        assert_eq!(let_through(&secure, &headers).await, allowed, "{headers:?}");
    }
    let mut headers = own(app, "http://app.example:8443");
    headers.push(("cookie", plain_cookies));
    assert!(let_through(&plain, &headers).await);
}

#[tokio::test]
async fn origin_comes_from_referer_when_origin_is_absent() {
    let app = router(|_| {}).await;
    let cookies = "__Host-onramp_access=token; __Host-onramp_csrf=secret";
    let mut headers = vec![
        ("cookie", cookies),
        ("x-csrf-token", "secret"),
        ("host", "app.example:8443"),
        ("referer", "https://app.example:8443/settings?tab=1"),
    ];
    assert!(let_through(&app, &headers).await);
    headers.push(("origin", "https://other"));
    assert!(!let_through(&app, &headers).await);
}
