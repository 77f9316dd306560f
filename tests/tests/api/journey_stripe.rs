//! The Stripe the journey tests talk to: `localstripe` (customers, cards, plans, subscriptions) and
//! wiremock (Checkout, the portal, prices, Connect accounts and account links, failure injection)
//! behind one base URL, because billing has one `STRIPE_API_BASE` for all of them. Also what Stripe
//! itself does in the journey: complete a Checkout session and send signed webhooks.

use std::sync::Arc;

use axum::{
    Router,
    body::{Body, to_bytes},
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use stripe_webhook::Webhook;
use tokio_util::sync::CancellationToken;
use wiremock::MockServer;

pub(crate) use crate::stripe_fake::LocalStripe;

/// The key billing and onboarding call Stripe with (localstripe accepts any `sk_test_` key).
pub(crate) const STRIPE_KEY: &str = "sk_test_journey";

/// Paths localstripe does not implement; the front sends them to wiremock.
const WIREMOCK_PATHS: [&str; 5] = [
    "/v1/checkout/",
    "/v1/billing_portal/",
    "/v1/prices",
    "/v1/accounts",
    "/v1/account_links",
];

/// localstripe and wiremock behind one address.
pub(crate) struct StripeFront {
    pub(crate) base: String,
    pub(crate) localstripe: LocalStripe,
    pub(crate) mock: MockServer,
    stop: CancellationToken,
}

struct Targets {
    localstripe: String,
    mock: String,
    http: reqwest::Client,
}

impl StripeFront {
    pub(crate) async fn start() -> Self {
        let localstripe = LocalStripe::start().await;
        let mock = MockServer::start().await;
        let targets = Arc::new(Targets {
            localstripe: localstripe.base.clone(),
            mock: mock.uri(),
            http: reqwest::Client::new(),
        });
        let app = Router::new().fallback(forward).with_state(targets);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let stop = CancellationToken::new();
        let until = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(until.cancelled_owned())
                .await;
        });
        Self {
            base,
            localstripe,
            mock,
            stop,
        }
    }

    /// The form fields of the last request wiremock received on `path`.
    pub(crate) async fn last_form(&self, path: &str) -> Vec<(String, String)> {
        let requests = self.mock.received_requests().await.expect("recording");
        let request = requests
            .iter()
            .rev()
            .find(|r| r.url.path() == path)
            .unwrap_or_else(|| panic!("no request to {path}"));
        url::form_urlencoded::parse(&request.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

impl Drop for StripeFront {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn forward(State(targets): State<Arc<Targets>>, request: Request) -> Response {
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let target = if WIREMOCK_PATHS.iter().any(|p| path.starts_with(p)) {
        &targets.mock
    } else {
        &targets.localstripe
    };
    let method = request.method().clone();
    let headers = request.headers().clone();
    let Ok(body) = to_bytes(request.into_body(), 1 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let mut out = targets
        .http
        .request(method, format!("{target}{path}"))
        .body(body);
    for name in [
        "authorization",
        "content-type",
        "idempotency-key",
        "stripe-version",
    ] {
        if let Some(value) = headers.get(name) {
            out = out.header(name, value);
        }
    }
    match out.send().await {
        Ok(answer) => {
            let status = answer.status();
            let content_type = answer.headers().get("content-type").cloned();
            let bytes = answer.bytes().await.unwrap_or_default();
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            if let Some(content_type) = content_type {
                response.headers_mut().insert("content-type", content_type);
            }
            response
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

/// A Stripe event envelope around `object`, `created` at the given Unix time.
pub(crate) fn event(id: &str, kind: &str, created: i64, object: &Value) -> String {
    json!({
        "id": id, "object": "event", "type": kind, "created": created, "livemode": false,
        "api_version": "2024-06-20", "pending_webhooks": 1,
        "data": {"object": object},
    })
    .to_string()
}

/// A fresh `evt_…` id.
pub(crate) fn event_id() -> String {
    format!("evt_{}", uuid::Uuid::new_v4().simple())
}

/// Delivers `body` to the gateway's webhook endpoint as Stripe does: raw bytes, `Stripe-Signature`
/// over them with the endpoint's secret, Stripe's user agent; `traceparent` when given. Returns
/// (status, JSON answer).
pub(crate) async fn deliver(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    body: &str,
    traceparent: Option<&str>,
) -> (u16, Value) {
    let signature = Webhook::generate_test_header(body, secret, None);
    let mut request = http
        .post(url)
        .header("content-type", "application/json; charset=utf-8")
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .header("stripe-signature", signature)
        .body(body.to_owned());
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let response = request.send().await.expect("gateway answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
