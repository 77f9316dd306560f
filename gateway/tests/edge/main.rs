//! What the edge decides on its own, before any RPC: the router as the gateway serves it, driven with
//! `tower::ServiceExt::oneshot` — no socket, no services (every peer address is unreachable, and no
//! request here gets as far as calling one). Routes whose answer needs a service live in the e2e
//! suite (`tests/tests/api`).

mod bodies;
mod config;
mod csrf;
mod idempotency;
mod openapi;
mod web_app;

use std::net::{Ipv4Addr, SocketAddr};

use axum::{Router, body::Body};
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;
use onramp_gateway::{Application, Config};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// The gateway's router, its peers unreachable, configured by `adjust`.
async fn router(adjust: impl FnOnce(&mut Config)) -> Router {
    let nowhere = "http://127.0.0.1:1".to_owned();
    let mut config = Config::new(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        [nowhere.clone(), nowhere.clone(), nowhere.clone(), nowhere],
    );
    adjust(&mut config);
    Application::build(config).await.expect("gateway").router()
}

/// A request with `headers`; a `Value` body is sent as JSON.
fn request(
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    }
    .expect("request")
}

async fn send(router: &Router, request: Request<Body>) -> Response<Body> {
    router.clone().oneshot(request).await.expect("infallible")
}

/// The problem+json body of a response with `status`.
async fn problem(response: Response<Body>, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response.headers()[header::CONTENT_TYPE].clone();
    assert_eq!(content_type, "application/problem+json");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("problem JSON")
}

async fn post_json(router: &Router, path: &str, body: Value) -> Response<Body> {
    send(router, request(Method::POST, path, &[], Some(body))).await
}

#[tokio::test]
async fn a_body_serde_refuses_is_a_400_naming_the_field() {
    let app = router(|_| {}).await;
    for (path, body, field) in [
        (
            "/v1/auth/login",
            json!({"email": "a@example.com", "pasword": "x"}),
            "pasword",
        ),
        ("/v1/auth/signup", json!({"email": 7}), "email"),
        (
            "/v1/auth/password-reset/complete",
            json!({"unlink_oauth_providers": "google"}),
            "unlink_oauth_providers",
        ),
        (
            "/v1/sales-leads",
            json!({"full_name": "A", "phone": {"n": 1}}),
            "phone",
        ),
        ("/v1/auth/verify-email", json!([1]), "body"),
    ] {
        let answer = problem(post_json(&app, path, body).await, 400).await;
        assert_eq!(answer["reason"], "INVALID_ARGUMENT", "{path}");
        assert_eq!(answer["field"], field, "{path}");
    }
}

#[tokio::test]
async fn an_unknown_enum_word_is_refused_at_the_edge_naming_its_field() {
    let app = router(|_| {}).await;
    for size in ["gigantic", "SOLO", "unspecified"] {
        let body = json!({"full_name": "A", "email": "a@example.com", "company_size": size});
        let answer = problem(post_json(&app, "/v1/sales-leads", body).await, 400).await;
        assert_eq!(answer["field"], "company_size", "{size}");
    }
}

#[tokio::test]
async fn bodies_must_be_json_small_and_shallow() {
    let app = router(|config| config.edge.json_max_depth = 4).await;
    let form = request(
        Method::POST,
        "/v1/auth/login",
        &[("content-type", "application/x-www-form-urlencoded")],
        None,
    );
    let form = Request::from_parts(form.into_parts().0, Body::from("email=a"));
    assert_eq!(
        problem(send(&app, form).await, 415).await["field"],
        "content-type"
    );
    let deep = json!({"email": [[[[["x"]]]]]});
    assert_eq!(
        problem(post_json(&app, "/v1/auth/login", deep).await, 400).await["field"],
        "body"
    );
    let big = json!({"email": "x".repeat(70 * 1024)});
    let answer = problem(post_json(&app, "/v1/auth/login", big).await, 413).await;
    assert_eq!(answer["reason"], "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn signed_in_routes_refuse_a_missing_or_invalid_token() {
    let app = router(|_| {}).await;
    let missing = send(&app, request(Method::GET, "/v1/users/me", &[], None)).await;
    let missing = problem(missing, 401).await;
    assert_eq!(missing["reason"], "UNAUTHENTICATED");
    assert_eq!(missing["detail"], "sign-in required");
    for value in ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer"] {
        let headers = [("authorization", value)];
        let answer = send(&app, request(Method::GET, "/v1/tenants", &headers, None)).await;
        assert_eq!(
            problem(answer, 401).await["reason"],
            "UNAUTHENTICATED",
            "{value}"
        );
    }
    // The sign-in check comes before the body is read: no token, no 400 about the body.
    let answer = post_json(&app, "/v1/billing/portal", json!({"nonsense": true})).await;
    assert_eq!(problem(answer, 401).await["reason"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = router(|_| {}).await;
    let credentialed = [("authorization", "Bearer x")];
    for (path, headers) in [
        ("/v1/nope", &[][..]),
        ("/healthz", &[][..]),
        ("/v1/users/me", &credentialed[..]),
    ] {
        let answer = send(&app, request(Method::GET, path, headers, None)).await;
        let headers = answer.headers();
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer", "{path}");
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            "default-src 'none'; frame-ancestors 'none'"
        );
        assert!(
            headers.contains_key(header::STRICT_TRANSPORT_SECURITY),
            "{path}"
        );
        assert!(headers.contains_key("x-request-id"), "{path}");
    }
    let credentialed = send(
        &app,
        request(Method::GET, "/v1/users/me", &credentialed, None),
    )
    .await;
    assert_eq!(credentialed.headers()[header::CACHE_CONTROL], "no-store");
    // The web app's pages get their own, stricter-than-nothing policy.
    let page = send(&app, request(Method::GET, "/settings", &[], None)).await;
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii");
    assert!(csp.contains("script-src 'self'"), "{csp}");
}

#[tokio::test]
async fn the_edges_own_refusals_are_problem_json() {
    let app = router(|_| {}).await;
    let unknown = send(&app, request(Method::GET, "/v1/no-such-route", &[], None)).await;
    assert_eq!(problem(unknown, 404).await["reason"], "NOT_FOUND");
    let wrong_method = send(&app, request(Method::DELETE, "/v1/auth/login", &[], None)).await;
    assert!(wrong_method.headers().contains_key(header::ALLOW));
    assert_eq!(
        problem(wrong_method, 405).await["reason"],
        "METHOD_NOT_ALLOWED"
    );
    // A repeated query parameter axum refuses in plain text is a problem naming `query`.
    let path = "/v1/auth/oauth/google/start?redirect_uri=a&redirect_uri=b";
    let repeated = send(&app, request(Method::GET, path, &[], None)).await;
    assert_eq!(problem(repeated, 400).await["field"], "query");
}

/// A client's status on `GET /v1/users/me` (401 until its budget is spent, then 429).
async fn status_from(app: &Router, headers: &[(&str, &str)]) -> StatusCode {
    send(app, request(Method::GET, "/v1/users/me", headers, None))
        .await
        .status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_is_the_last_address_the_proxy_appended() {
    let app = router(|config| {
        config.trusted_proxy_header = Some("x-forwarded-for".to_owned());
        config.edge.rate_limit_global = Some("1/1m".parse().expect("limit"));
    })
    .await;
    let forwarded = |value| [("x-forwarded-for", value)];
    assert_eq!(
        status_from(&app, &forwarded("6.6.6.6, 203.0.113.7")).await,
        401
    );
    assert_eq!(status_from(&app, &forwarded("203.0.113.7")).await, 429);
    // Another client, whatever address it writes first (or in the edge's own header).
    assert_eq!(
        status_from(&app, &forwarded("203.0.113.7, 192.0.2.10")).await,
        401
    );
    let spoofed = [
        ("x-forwarded-for", "192.0.2.11"),
        ("x-onramp-client-ip", "203.0.113.99"),
    ];
    assert_eq!(status_from(&app, &spoofed).await, 401);
    let spoofed = [
        ("x-forwarded-for", "192.0.2.11"),
        ("x-onramp-client-ip", "203.0.113.98"),
    ];
    assert_eq!(status_from(&app, &spoofed).await, 429);
}

#[tokio::test]
async fn rate_limit_refusals_are_counted_by_limit_name() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    // The tokio test runtime runs on this thread, so the middleware records here.
    let _local = metrics::set_default_local_recorder(&recorder);
    let app = router(|config| {
        config.edge.rate_limit_global = Some("3/1m".parse().expect("limit"));
        let route = "GET /v1/tenants/{tenant_id}=1/1m"
            .parse()
            .expect("route limit");
        config.edge.rate_limit_routes = vec![route];
    })
    .await;
    for _ in 0..2 {
        send(&app, request(Method::GET, "/v1/tenants/t1", &[], None)).await;
    }
    for _ in 0..2 {
        send(&app, request(Method::GET, "/v1/users/me", &[], None)).await;
    }
    let text = handle.render();
    let count = |limit: &str| {
        let series = format!("onramp_rate_limit_refusals_total{{limit=\"{limit}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&series))
            .unwrap_or("0")
            .to_owned()
    };
    assert_eq!(count("GET /v1/tenants/{tenant_id}"), "1", "{text}");
    assert_eq!(count("global"), "1", "{text}");
}

#[tokio::test]
async fn a_streamed_body_is_held_to_the_same_rules_and_no_body_needs_no_content_type() {
    let app = router(|_| {}).await;
    // A body of unknown size (chunked; no Content-Length): read up to the limit, then refused.
    let streamed = |content_type: Option<&str>| {
        let chunk = axum::body::Bytes::from(vec![b' '; 70 * 1024]);
        let body = Body::from_stream(futures::stream::iter([Ok::<_, std::io::Error>(chunk)]));
        let headers: Vec<_> = content_type
            .map(|t| ("content-type", t))
            .into_iter()
            .collect();
        let bare = request(Method::POST, "/v1/auth/login", &headers, None);
        Request::from_parts(bare.into_parts().0, body)
    };
    let answer = problem(send(&app, streamed(Some("application/json"))).await, 413).await;
    assert_eq!(answer["reason"], "PAYLOAD_TOO_LARGE");
    let answer = problem(send(&app, streamed(None)).await, 415).await;
    assert_eq!(answer["field"], "content-type");
    // A mutation without a body passes the body checks and reaches the sign-in check.
    let bare = request(Method::POST, "/v1/auth/logout-everywhere", &[], None);
    assert_eq!(
        problem(send(&app, bare).await, 401).await["reason"],
        "UNAUTHENTICATED"
    );
}
