//! The one Stripe stand-in end-to-end tests use, and the signing that makes a test speak as Stripe.
//!
//! - [`LocalStripe`]: the third-party `localstripe` server (PyPI; `./tests/run` installs it and sets
//!   `LOCALSTRIPE_BIN`) for what it implements: customers, plans, cards, subscriptions, invoices.
//! - [`StripeFake`]: billing's and onboarding's `stripe_api_base` in a test (its [`StripeFake::base`]).
//!   Each request goes first to a wiremock server ([`StripeFake::mock`]) so that a test can answer
//!   anything itself (prices, Connect accounts and links, injected failures) by mounting a mock; what
//!   no mock matches (wiremock's 404), Checkout (`POST /v1/checkout/sessions`) and the portal
//!   (`POST /v1/billing_portal/sessions`) are answered here, recording every Checkout session, and
//!   everything else goes to a [`LocalStripe`] unchanged. [`StripeFake::complete_checkout`] then does
//!   what Stripe does when the buyer pays: it creates the subscription (with a card) in localstripe
//!   from the recorded session.
//! - [`event`] + [`Webhooks::deliver`]: a Stripe event envelope around a real object, signed with
//!   the endpoint secret (`async-stripe-webhook`'s test header) and posted to the gateway's
//!   `POST /v1/webhooks/stripe` as Stripe posts it, so a test chooses the order and the duplicates.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use onramp_kit::{config::SecretString, testing::LocalStripe};
use serde_json::{Value, json};
use stripe_webhook::Webhook;
use uuid::Uuid;
use wiremock::MockServer;

use super::{TestStack, users::status_and_json};

/// The API key tests give billing and use themselves (localstripe accepts any `sk_…`).
pub(crate) const STRIPE_KEY: &str = "sk_test_onramp_e2e";

/// What tests make of a [`LocalStripe`] beyond its calls: a price to sell, a card to pay with.
pub(crate) trait LocalStripeCalls {
    /// A monthly recurring price (localstripe's `plan`, which subscriptions accept) with its product;
    /// returns the price id, usable as a catalog plan's `stripe_price_id`.
    async fn create_price(&self, amount_minor: u32) -> String;

    /// Gives the customer a working card (so subscriptions start `active`).
    async fn add_card(&self, customer: &str);
}

impl LocalStripeCalls for LocalStripe {
    async fn create_price(&self, amount_minor: u32) -> String {
        let product = self
            .call(reqwest::Method::POST, "/v1/products", &[("name", "Team")])
            .await;
        let id = format!("price_{}", &Uuid::new_v4().simple().to_string()[..12]);
        let amount = amount_minor.to_string();
        let plan = self
            .call(
                reqwest::Method::POST,
                "/v1/plans",
                &[
                    ("id", &id),
                    ("product", product["id"].as_str().expect("product id")),
                    ("amount", &amount),
                    ("currency", "usd"),
                    ("interval", "month"),
                ],
            )
            .await;
        assert_eq!(plan["id"], id.as_str(), "price created: {plan}");
        id
    }

    async fn add_card(&self, customer: &str) {
        let token = self
            .call(
                reqwest::Method::POST,
                "/v1/tokens",
                &[
                    ("card[number]", "4242424242424242"),
                    ("card[exp_month]", "12"),
                    ("card[exp_year]", "2035"),
                    ("card[cvc]", "123"),
                ],
            )
            .await;
        let token = token["id"].as_str().expect("card token");
        let source = self
            .call(
                reqwest::Method::POST,
                &format!("/v1/customers/{customer}/sources"),
                &[("source", token)],
            )
            .await;
        assert!(source["id"].is_string(), "card attached: {source}");
    }
}

/// A Checkout session the fake created, as billing asked for it (form fields by their Stripe names,
/// e.g. `customer`, `line_items[0][price]`, `subscription_data[metadata][plan_id]`).
#[derive(Debug, Clone)]
pub(crate) struct CheckoutSession {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) fields: HashMap<String, String>,
    /// The `Idempotency-Key` header billing sent.
    pub(crate) idempotency_key: Option<String>,
}

impl CheckoutSession {
    /// A form field (empty when absent).
    pub(crate) fn field(&self, name: &str) -> &str {
        self.fields
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// What Stripe has after a paid Checkout: the session, the subscription and its first invoice, as
/// JSON objects ready for [`event`].
#[derive(Debug, Clone)]
pub(crate) struct CompletedCheckout {
    pub(crate) session: Value,
    pub(crate) subscription: Value,
    pub(crate) invoice: Value,
}

impl CompletedCheckout {
    /// The subscription's id.
    pub(crate) fn subscription_id(&self) -> &str {
        self.subscription["id"].as_str().expect("subscription id")
    }
}

#[derive(Default)]
struct Recorded {
    sessions: Mutex<Vec<CheckoutSession>>,
    portal_customers: Mutex<Vec<String>>,
}

#[derive(Clone)]
struct FakeState {
    recorded: Arc<Recorded>,
    localstripe: String,
    mock: String,
    http: reqwest::Client,
}

/// A test's mocks first, then Checkout and the portal answered here, then localstripe.
pub(crate) struct StripeFake {
    /// Give this to billing and onboarding as `stripe_api_base`.
    pub(crate) base: String,
    pub(crate) localstripe: LocalStripe,
    /// Mount a mock here to answer a request yourself (it wins over everything else).
    pub(crate) mock: MockServer,
    recorded: Arc<Recorded>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for StripeFake {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn create_checkout(state: &FakeState, headers: &HeaderMap, body: &Bytes) -> Response {
    let fields = form(body);
    let id = format!("cs_test_{}", Uuid::new_v4().simple());
    let session = CheckoutSession {
        url: format!("https://checkout.stripe.test/c/pay/{id}"),
        id,
        fields,
        idempotency_key: headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let answer = json!({
        "id": session.id, "object": "checkout.session", "url": session.url,
        "expires_at": chrono::Utc::now().timestamp() + 86_400, "mode": "subscription",
        "customer": session.field("customer"), "status": "open",
    });
    state
        .recorded
        .sessions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(session);
    Json(answer).into_response()
}

fn create_portal(state: &FakeState, body: &Bytes) -> Response {
    let fields = form(body);
    let customer = fields.get("customer").cloned().unwrap_or_default();
    if customer.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"type": "invalid_request_error", "param": "customer"}})),
        )
            .into_response();
    }
    state
        .recorded
        .portal_customers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(customer.clone());
    let id = format!("bps_{}", Uuid::new_v4().simple());
    Json(
        json!({"id": id, "object": "billing_portal.session", "customer": customer,
        "url": format!("https://billing.stripe.test/p/session/{id}")}),
    )
    .into_response()
}

/// Forwards a request byte for byte (method, path, query, the headers Stripe reads, body) to
/// `target`: its status, content type and body.
async fn forward(
    state: &FakeState,
    target: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = state
        .http
        .request(method.clone(), format!("{target}{path}"))
        .body(body.clone());
    for name in [
        "authorization",
        "content-type",
        "idempotency-key",
        "stripe-version",
    ] {
        if let Some(value) = headers.get(name) {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(answer) => {
            let status =
                StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let bytes = answer.bytes().await.unwrap_or_default();
            (status, [("content-type", "application/json")], bytes).into_response()
        }
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}

/// Every request: the test's mocks, else Checkout or the portal, else localstripe.
async fn route(
    State(state): State<FakeState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mocked = forward(&state, &state.mock, &method, &uri, &headers, &body).await;
    if mocked.status() != StatusCode::NOT_FOUND {
        return mocked;
    }
    match (&method, uri.path()) {
        (&Method::POST, "/v1/checkout/sessions") => create_checkout(&state, &headers, &body),
        (&Method::POST, "/v1/billing_portal/sessions") => create_portal(&state, &body),
        _ => forward(&state, &state.localstripe, &method, &uri, &headers, &body).await,
    }
}

impl StripeFake {
    /// Starts localstripe, the mock server and the fake in front of them.
    pub(crate) async fn start() -> Self {
        let localstripe = LocalStripe::start(STRIPE_KEY).await;
        let mock = MockServer::start().await;
        let recorded = Arc::new(Recorded::default());
        let state = FakeState {
            recorded: recorded.clone(),
            localstripe: localstripe.base.clone(),
            mock: mock.uri(),
            http: reqwest::Client::new(),
        };
        let app = Router::new().fallback(route).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base,
            localstripe,
            mock,
            recorded,
            server,
        }
    }

    /// Every request the fake received, oldest first (each passes the mock server first).
    pub(crate) async fn requests(&self) -> Vec<wiremock::Request> {
        self.mock.received_requests().await.expect("recording")
    }

    /// The form fields of the last request on `path`.
    pub(crate) async fn last_form(&self, path: &str) -> Vec<(String, String)> {
        let requests = self.requests().await;
        let request = requests
            .iter()
            .rev()
            .find(|r| r.url.path() == path)
            .unwrap_or_else(|| panic!("no request to {path}"));
        url::form_urlencoded::parse(&request.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// Every Checkout session created so far, oldest first.
    pub(crate) fn sessions(&self) -> Vec<CheckoutSession> {
        self.recorded
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The customers portal sessions were opened for.
    pub(crate) fn portal_customers(&self) -> Vec<String> {
        self.recorded
            .portal_customers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The buyer pays: a card for the session's customer, then the subscription Stripe would create
    /// (price, quantity and `subscription_data[metadata]` from the session) in localstripe.
    pub(crate) async fn complete_checkout(&self, session: &CheckoutSession) -> CompletedCheckout {
        let stripe = &self.localstripe;
        let customer = session.field("customer");
        assert!(customer.starts_with("cus_"), "billing named its customer");
        stripe.add_card(customer).await;
        let quantity = match session.field("line_items[0][quantity]") {
            "" => "1",
            given => given,
        };
        let mut form = vec![
            ("customer", customer),
            ("items[0][plan]", session.field("line_items[0][price]")),
            ("items[0][quantity]", quantity),
        ];
        let metadata: Vec<(String, String)> = session
            .fields
            .iter()
            .filter_map(|(name, value)| {
                let key = name
                    .strip_prefix("subscription_data[metadata][")?
                    .strip_suffix(']')?;
                Some((format!("metadata[{key}]"), value.clone()))
            })
            .collect();
        form.extend(metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let subscription = stripe
            .call(reqwest::Method::POST, "/v1/subscriptions", &form)
            .await;
        let subscription_id = subscription["id"].as_str().expect("subscription created");
        let invoice_id = subscription["latest_invoice"]
            .as_str()
            .expect("the first invoice");
        let invoice = stripe
            .call(
                reqwest::Method::GET,
                &format!("/v1/invoices/{invoice_id}"),
                &[],
            )
            .await;
        let session_object = json!({
            "id": session.id, "object": "checkout.session", "mode": "subscription",
            "status": "complete", "payment_status": "paid",
            "customer": customer, "subscription": subscription_id,
            "client_reference_id": session.field("client_reference_id"),
            "metadata": {
                "tenant_id": session.field("metadata[tenant_id]"),
                "plan_id": session.field("metadata[plan_id]"),
            },
        });
        CompletedCheckout {
            session: session_object,
            subscription,
            invoice,
        }
    }
}

/// A Stripe event envelope (a fresh `evt_…` id) of `kind` around `object`, created at `created`
/// (unix seconds: the version billing's order guard compares). Returns the JSON body as Stripe
/// sends it; a duplicate delivery sends the same body again.
pub(crate) fn event(kind: &str, created: i64, object: &Value) -> String {
    json!({
        "id": format!("evt_{}", Uuid::new_v4().simple()),
        "object": "event", "api_version": "2024-06-20", "type": kind,
        "created": created, "livemode": false, "pending_webhooks": 1,
        "data": {"object": object},
    })
    .to_string()
}

/// Posts signed deliveries to the gateway's Stripe endpoint.
#[derive(Clone)]
pub(crate) struct Webhooks {
    url: String,
    secret: String,
    http: reqwest::Client,
}

impl Webhooks {
    /// For the endpoint at `url` (`app.url("/v1/webhooks/stripe")`) signing with `secret`.
    pub(crate) fn new(url: String, secret: &str) -> Self {
        Self {
            url,
            secret: secret.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// Delivers `body` with a fresh valid `Stripe-Signature`: the HTTP status and the JSON answer
    /// (`{"outcome": "applied" | "duplicate" | "stale" | "ignored", …}` on 200).
    pub(crate) async fn deliver(&self, body: &str) -> (u16, Value) {
        self.deliver_traced(body, None).await
    }

    /// [`Webhooks::deliver`] as Stripe sends it (raw bytes, its user agent), continuing
    /// `traceparent` when given.
    pub(crate) async fn deliver_traced(
        &self,
        body: &str,
        traceparent: Option<&str>,
    ) -> (u16, Value) {
        let signature = Webhook::generate_test_header(body, &self.secret, None);
        let mut request = self
            .http
            .post(&self.url)
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
        let (status, answer) = status_and_json(request).await;
        (status.as_u16(), answer)
    }

    /// [`Webhooks::deliver`], asserting a 200 with `outcome`.
    pub(crate) async fn expect(&self, body: &str, outcome: &str) {
        let (status, answer) = self.deliver(body).await;
        assert_eq!(
            (status, answer["outcome"].as_str()),
            (200, Some(outcome)),
            "{answer} for {body}"
        );
    }
}

/// A fresh `whsec_…` endpoint secret.
pub(crate) fn new_webhook_secret() -> String {
    format!("whsec_{}", Uuid::new_v4().simple())
}

/// A stack whose billing takes deliveries signed with a fresh secret, and that secret.
pub(crate) async fn stack_with_webhook_secret() -> (TestStack, String) {
    let secret = new_webhook_secret();
    let configured = SecretString::from(secret.clone());
    let app =
        TestStack::spawn_with(|options| options.billing_webhook_secrets = vec![configured]).await;
    (app, secret)
}

/// `body` posted to the gateway's Stripe endpoint as Stripe's raw bytes, with `signature` (forged,
/// say) as its `Stripe-Signature` or none at all.
pub(crate) async fn post_webhook(
    app: &TestStack,
    body: &str,
    signature: Option<&str>,
) -> reqwest::Response {
    let raw = app
        .http
        .post(app.url("/v1/webhooks/stripe"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    let request = match signature {
        Some(signature) => raw.header("stripe-signature", signature),
        None => raw,
    };
    request.send().await.expect("the gateway answers")
}
