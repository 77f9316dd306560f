//! The edge under attack and under failure, over real HTTP: the client IP behind a trusted proxy
//! when a client repeats the header, span names that never carry a path's secret, access tokens that
//! keep verifying while identity is down, and a peer that dies mid-call answering `503`, never `500`.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use onramp_kit::auth::Clock;
use reqwest::StatusCode;
use tokio::{net::TcpListener, task::JoinHandle};

use crate::support::{
    TestStack, attribute,
    gateways::{lone_gateway, start_gateway},
    new_email, new_trace_id, problem, signed_in, spans,
    tenancy::{invite, new_tenant},
    wait_for_span,
};

#[tokio::test]
async fn behind_a_trusted_proxy_a_repeated_forwarded_for_header_is_read_to_its_last_line() {
    let prefix = format!("onramp-test:{}", uuid::Uuid::new_v4().simple());
    let (url, stop) = lone_gateway(|config| {
        config.trusted_proxy_header = Some("x-forwarded-for".to_owned());
        config.edge.rate_limit_key_prefix = prefix;
        config.edge.rate_limit_global = Some("1/1m".parse().expect("limit"));
    })
    .await;
    let http = reqwest::Client::new();
    let status_from = |lines: &'static [&'static str]| {
        let mut request = http.get(format!("{url}/v1/status"));
        for line in lines {
            request = request.header("x-forwarded-for", *line);
        }
        async move { request.send().await.expect("gateway answers").status() }
    };
    // The client sent its own line; the proxy appended the real address as a second line.
    let first = status_from(&["198.51.100.66", "203.0.113.7"]).await;
    assert_ne!(first, StatusCode::TOO_MANY_REQUESTS);
    // The same client again: it is 203.0.113.7 that used up the budget, not the address it chose.
    assert_eq!(
        status_from(&["203.0.113.7"]).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client naming 203.0.113.7 in its own line is judged by the proxy's line.
    assert_ne!(
        status_from(&["203.0.113.7", "192.0.2.10"]).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    stop.cancel();
}

#[tokio::test]
async fn request_spans_are_named_by_route_template_so_an_invite_code_is_never_recorded() {
    spans();
    let world = TestStack::with_mail().await;
    let owner = world.verified_user().await;
    let tenant = new_tenant(&world, &owner, "Traced Co").await;
    let code = invite(&world, &owner, &tenant, &new_email(), "member").await;
    let trace_id = new_trace_id();
    let response = world
        .get_traced(&format!("/v1/invites/{code}"), &trace_id)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let gateway = wait_for_span(|span| {
        span.span_context.trace_id().to_string() == trace_id
            && span.span_kind == opentelemetry::trace::SpanKind::Server
            && attribute(span, "onramp.service").is_none()
    })
    .await;
    assert_eq!(gateway.name, "GET /v1/invites/{code}");
    assert_eq!(
        attribute(&gateway, "http.route").as_deref(),
        Some("/v1/invites/{code}")
    );
    // Tenancy's side of the same trace (its RPC span and whatever it records inside).
    wait_for_span(|span| {
        span.span_context.trace_id().to_string() == trace_id
            && attribute(span, "onramp.service").as_deref() == Some("tenant-provisioning")
    })
    .await;
    let everything = spans()
        .get_finished_spans()
        .expect("spans")
        .into_iter()
        .filter(|span| span.span_context.trace_id().to_string() == trace_id)
        .map(|span| format!("{} {:?} {:?}", span.name, span.attributes, span.events))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !everything.contains(&code),
        "the code was recorded:\n{everything}"
    );
}

#[tokio::test]
async fn with_identity_down_tokens_keep_verifying_against_the_last_good_keys() {
    let clock = Clock::system();
    let gateway_clock = clock.clone();
    let mut app = TestStack::spawn_with(|options| {
        options.gateway(move |config: &mut onramp_gateway::Config| {
            config.clock = gateway_clock.clone()
        });
    })
    .await;
    let (_, session) = signed_in(&app).await;
    let token = session["access_token"].as_str().expect("token").to_owned();
    let (http, url) = (app.http.clone(), app.url("/v1/tenants"));
    let tenants = |token: String| {
        let request = http.get(&url).bearer_auth(token);
        async move { request.send().await.expect("gateway answers") }
    };
    assert_eq!(tenants(token.clone()).await.status(), StatusCode::OK);

    app.stack
        .stop_service("identity")
        .await
        .expect("identity stops");
    // Past identity's advertised key max-age (300 s), well within the token's life (15 min): the
    // gateway wants fresh keys and cannot get them.
    clock.advance(Duration::from_secs(301));
    for attempt in 0..3 {
        let response = tenants(token.clone()).await;
        assert_eq!(response.status(), StatusCode::OK, "attempt {attempt}");
    }
    // A token the cached keys cannot vouch for is still refused.
    let forged = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(
        problem(tenants(forged).await, 401).await["reason"],
        "UNAUTHENTICATED"
    );
}

/// A TCP proxy in front of one service that can cut every connection at once (and stop accepting),
/// the way a killed process or a dropped node looks to its callers.
struct CuttableProxy {
    addr: SocketAddr,
    accepting: JoinHandle<()>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl CuttableProxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let connections = Arc::new(Mutex::new(Vec::new()));
        let tracked = connections.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let connection = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tracked.lock().expect("lock").push(connection);
            }
        });
        Self {
            addr,
            accepting,
            connections,
        }
    }

    /// Drops every connection mid-stream and refuses new ones.
    fn cut(&self) {
        self.accepting.abort();
        for connection in self.connections.lock().expect("lock").drain(..) {
            connection.abort();
        }
    }
}

#[tokio::test]
async fn a_peer_that_dies_mid_call_answers_503_with_retry_after_never_500() {
    // A second gateway reaches billing through the proxy; billing's plans table is locked so the
    // call is in flight (waiting in billing) when the connection is cut.
    let app = TestStack::spawn().await;
    let billing = app.stack.service_addr("billing").expect("billing runs");
    let proxy = CuttableProxy::start(billing).await;
    let peers = onramp_stack::SERVICES.map(|name| {
        if name == "billing" {
            format!("http://{}", proxy.addr)
        } else {
            app.service_url(name)
        }
    });
    let (gateway, stop) = start_gateway(peers, |config| {
        config.request_budget = Duration::from_secs(5);
    })
    .await;
    let url = format!("{gateway}/v1/plans/public");
    let http = reqwest::Client::new();
    assert_eq!(http.get(&url).send().await.expect("plans").status(), 200);

    let db = app.pool("billing").await;
    let mut lock = db.begin().await.expect("tx");
    sqlx::query("lock table plans in access exclusive mode")
        .execute(&mut *lock)
        .await
        .expect("lock");
    let in_flight = tokio::spawn({
        let http = http.clone();
        async move { http.get(&url).send().await.expect("gateway answers") }
    });
    let started = Instant::now();
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock'",
        )
        .fetch_one(&db)
        .await
        .expect("activity");
        if waiting > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the call never reached billing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    proxy.cut();
    let response = in_flight.await.expect("join");
    let retry_after = response.headers().get("retry-after").cloned();
    let body = problem(response, 503).await;
    assert_eq!(body["reason"], "UNAVAILABLE");
    assert!(retry_after.is_some(), "503 without Retry-After");
    lock.rollback().await.expect("unlock");
    db.close().await;
    stop.cancel();
}
