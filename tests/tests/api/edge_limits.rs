//! Edge hardening, over real HTTP: strict JSON content types, JSON size and depth limits (each a
//! 4xx problem naming the problem, never a 5xx), and rate limits that two gateway replicas count
//! together in Redis (and, without Redis, each replica alone).

use std::net::SocketAddr;

use onramp_kit::config::SecretString;
use reqwest::{StatusCode, header};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{TestStack, problem};

/// The Redis the shared limiter tests count in.
fn redis_url() -> String {
    std::env::var("ONRAMP_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix no other test shares, so parallel tests never count each other's requests.
fn unique_key_prefix() -> String {
    format!("onramp-test:{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn json_routes_refuse_other_content_types_and_webhooks_take_raw_bodies() {
    let secret = SecretString::from(format!("whsec_{}", uuid::Uuid::new_v4().simple()));
    let app = TestStack::spawn_with(|options| options.billing_webhook_secrets = vec![secret]).await;
    let login = |content_type: Option<&'static str>, body: &'static str| {
        let mut request = app.http.post(app.url("/v1/auth/login")).body(body);
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        request.send()
    };
    for (content_type, body) in [
        (Some("text/plain"), r#"{"email":"a@b.c","password":"x"}"#),
        (
            Some("application/x-www-form-urlencoded"),
            "email=a%40b.c&password=x",
        ),
        (Some("multipart/form-data; boundary=x"), "--x--"),
        (None, r#"{"email":"a@b.c","password":"x"}"#),
    ] {
        let refused = problem(login(content_type, body).await.expect("login"), 415).await;
        assert_eq!(
            refused["reason"], "UNSUPPORTED_MEDIA_TYPE",
            "{content_type:?}"
        );
        assert_eq!(refused["field"], "content-type");
    }
    // JSON with parameters, and the +json family, pass the edge (and reach identity: 401).
    let accepted = login(
        Some("application/json; charset=utf-8"),
        r#"{"email":"nobody@example.com","password":"wrong password"}"#,
    )
    .await
    .expect("login");
    problem(accepted, 401).await;

    // Stripe's webhook is not a JSON route: whatever it is sent, billing judges the signature.
    let webhook = app
        .http
        .post(app.url("/v1/webhooks/stripe"))
        .header(header::CONTENT_TYPE, "text/plain")
        .header("stripe-signature", "t=1,v1=00")
        .body("{}")
        .send()
        .await
        .expect("webhook");
    assert_eq!(
        problem(webhook, 400).await["reason"],
        "WEBHOOK_SIGNATURE_INVALID"
    );
}

#[tokio::test]
async fn oversized_and_deeply_nested_json_is_refused_by_name() {
    let app = TestStack::spawn_with(|options| {
        options.gateway(|config: &mut onramp_gateway::Config| {
            config.edge.json_body_limit_bytes = 4096;
        });
    })
    .await;
    let post_json = |path: &'static str, body: String| {
        app.http
            .post(app.url(path))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
    };

    let nested = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let deep = problem(
        post_json("/v1/auth/login", nested).await.expect("post"),
        400,
    )
    .await;
    assert_eq!(deep["reason"], "INVALID_ARGUMENT");
    assert_eq!(deep["field"], "body");
    assert!(
        deep["detail"].as_str().expect("detail").contains("nested"),
        "{deep}"
    );
    // Nesting inside a string is just text.
    let text =
        json!({ "email": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[@example.com", "password": "x" });
    let within = post_json("/v1/auth/login", text.to_string())
        .await
        .expect("post");
    assert!(within.status().is_client_error());
    assert_ne!(
        within.status(),
        StatusCode::BAD_REQUEST,
        "the depth check misread a string"
    );

    let big = json!({ "email": "a@example.com", "password": "x".repeat(10_000) }).to_string();
    let too_large = problem(post_json("/v1/auth/signup", big).await.expect("post"), 413).await;
    assert_eq!(too_large["reason"], "PAYLOAD_TOO_LARGE");
    assert_eq!(too_large["field"], "body");

    // The same body without a Content-Length (chunked), as a streaming client sends it.
    let chunked = raw_chunked_post(
        app.stack.gateway_addr(),
        "/v1/auth/signup",
        &"x".repeat(10_000),
    )
    .await;
    assert!(chunked.starts_with("HTTP/1.1 413"), "{chunked}");
    assert!(chunked.contains("PAYLOAD_TOO_LARGE"), "{chunked}");
}

/// Sends a chunked JSON POST over a raw TCP connection; the whole response as text.
async fn raw_chunked_post(addr: SocketAddr, path: &str, filler: &str) -> String {
    let body = format!(r#"{{"email":"a@example.com","password":"{filler}"}}"#);
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    // The server may answer and close before reading everything; what it answered is what counts.
    let _ = stream.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn malformed_bodies_on_every_json_route_are_client_errors_never_server_errors() {
    let app = TestStack::spawn().await;
    let routes = [
        "/v1/auth/signup",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/logout",
        "/v1/auth/verify-email",
        "/v1/auth/password-reset",
        "/v1/auth/password-reset/complete",
        "/v1/sales-leads",
        "/v1/tenants",
    ];
    let bodies = [
        "",
        "null",
        "[]",
        "{",
        "\"text\"",
        r#"{"email": 5, "password": [], "refresh_token": {}}"#,
        "{\"a\":\"\\ud800\"}",
    ];
    for path in routes {
        for body in bodies {
            let response = app
                .http
                .post(app.url(path))
                .header(header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .expect("post");
            assert!(
                response.status().is_client_error(),
                "POST {path} {body:?} answered {}",
                response.status()
            );
        }
    }
}

/// Limits for the rate-limit tests: 3 per minute on `GET /v1/status`, 6 per minute overall.
fn limits(config: &mut onramp_gateway::Config, redis: Option<String>, prefix: &str) {
    config.edge.rate_limit_redis_url = redis.map(Into::into);
    config.edge.rate_limit_key_prefix = prefix.to_owned();
    config.edge.rate_limit_global = Some("6/1m".parse().expect("limit"));
    config.edge.rate_limit_routes = vec!["GET /v1/status=3/1m".parse().expect("route limit")];
}

#[tokio::test]
async fn two_gateways_share_route_and_global_limits_through_redis() {
    let prefix = unique_key_prefix();
    let hook_prefix = prefix.clone();
    let app = TestStack::spawn_with(|options| {
        options.gateway(move |config: &mut onramp_gateway::Config| {
            limits(config, Some(redis_url()), &hook_prefix);
        });
    })
    .await;
    let (b, stop_b) = app
        .second_gateway(|config| limits(config, Some(redis_url()), &prefix))
        .await;
    let a = app.stack.gateway_url();
    let get = |base: &str, path: &str| app.http.get(format!("{base}{path}")).send();

    // The route limit: 3 across both replicas, whichever serves.
    for base in [&a, &b, &a] {
        assert_eq!(get(base, "/v1/status").await.expect("status").status(), 200);
    }
    let refused = get(&b, "/v1/status").await.expect("status");
    let retry_after: u64 = refused.headers()[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(problem(refused, 429).await["reason"], "RATE_LIMITED");
    problem(get(&a, "/v1/status").await.expect("status"), 429).await;

    // The global limit: 6 requests per client over every route, refused ones included (5 so far).
    assert_eq!(
        get(&b, "/v1/config/public").await.expect("config").status(),
        200
    );
    let global = get(&a, "/v1/config/public").await.expect("config");
    assert!(global.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(problem(global, 429).await["reason"], "RATE_LIMITED");

    // Probes are never limited.
    assert_eq!(get(&a, "/healthz").await.expect("healthz").status(), 200);
    stop_b.cancel();
}

#[tokio::test]
async fn without_redis_each_gateway_counts_alone() {
    let prefix = unique_key_prefix();
    let hook_prefix = prefix.clone();
    let app = TestStack::spawn_with(|options| {
        options.gateway(move |config: &mut onramp_gateway::Config| {
            limits(config, None, &hook_prefix);
        });
    })
    .await;
    let (b, stop_b) = app
        .second_gateway(|config| limits(config, None, &prefix))
        .await;
    let a = app.stack.gateway_url();
    let get = |base: &str| app.http.get(format!("{base}/v1/status")).send();
    for _ in 0..3 {
        assert_eq!(get(&a).await.expect("status").status(), 200);
    }
    problem(get(&a).await.expect("status"), 429).await;
    // B has its own count.
    assert_eq!(get(&b).await.expect("status").status(), 200);
    stop_b.cancel();
}

#[tokio::test]
async fn the_edges_own_refusals_are_problem_json_too() {
    let app = TestStack::spawn().await;
    let wrong_method = app
        .http
        .delete(app.url("/v1/auth/login"))
        .send()
        .await
        .expect("delete");
    assert!(wrong_method.headers().contains_key(header::ALLOW));
    assert_eq!(
        problem(wrong_method, 405).await["reason"],
        "METHOD_NOT_ALLOWED"
    );

    // Past BODY_LIMIT_BYTES (1 MiB), even the raw webhook body is refused, before billing sees it.
    let huge = app
        .http
        .post(app.url("/v1/webhooks/stripe"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("stripe-signature", "t=1,v1=00")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .expect("webhook");
    assert_eq!(problem(huge, 413).await["reason"], "PAYLOAD_TOO_LARGE");
}
