//! Calls to Stripe (or a Stripe-compatible server at the configured base URL) through `async-stripe`.
//! Requests are built with the library's typed builders and sent by its client; every mutating call
//! carries an idempotency key. Responses are read into the few fields billing uses, so a compatible
//! fake need not return every field of Stripe's objects.

use std::time::Duration;

use anyhow::Context as _;
use onramp_kit::config::{ExposeSecret, SecretString};
use stripe::StripeRequest;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy};

use crate::webhook::event::SubscriptionObject;

/// A Stripe API client bound to a base URL and key.
#[derive(Clone)]
pub(crate) struct StripeApi {
    base: String,
    key: SecretString,
    client: Client,
    http: reqwest::Client,
}

impl std::fmt::Debug for StripeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeApi")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// The id and URL of something Stripe created.
#[derive(Debug, miniserde::Deserialize)]
pub(crate) struct Created {
    pub(crate) id: String,
    pub(crate) url: Option<String>,
    pub(crate) expires_at: Option<i64>,
}

/// What a new Checkout session should sell.
#[derive(Debug)]
pub(crate) struct CheckoutSpec<'a> {
    pub(crate) customer: &'a str,
    pub(crate) tenant_id: &'a str,
    pub(crate) plan_id: &'a str,
    pub(crate) price_id: &'a str,
    pub(crate) seats: u64,
    pub(crate) trial_days: Option<u32>,
    pub(crate) success_url: &'a str,
    pub(crate) cancel_url: &'a str,
}

impl StripeApi {
    pub(crate) fn new(base: &str, key: SecretString) -> anyhow::Result<Self> {
        onramp_kit::tls::install_crypto_provider();
        let base = base.trim_end_matches('/').to_owned();
        let client = ClientBuilder::new(key.expose_secret())
            .url(format!("{base}/"))
            .timeout(Duration::from_secs(10))
            .build()
            .context("building the Stripe client")?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .context("building the Stripe HTTP client")?;
        Ok(Self {
            base,
            key,
            client,
            http,
        })
    }

    async fn send(&self, request: impl StripeRequest, key: String) -> anyhow::Result<Created> {
        let key =
            IdempotencyKey::new(key).map_err(|e| anyhow::anyhow!("idempotency key: {e:?}"))?;
        request
            .build()
            .customize::<Created>()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&self.client)
            .await
            .map_err(|e| anyhow::anyhow!("stripe: {e}"))
    }

    /// Creates the tenant's customer. The idempotency key is the tenant's, so a retry or a concurrent
    /// attempt gets the same customer back instead of a second one.
    pub(crate) async fn create_customer(&self, tenant_id: &str) -> anyhow::Result<Created> {
        let metadata = [("tenant_id".to_owned(), tenant_id.to_owned())]
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>();
        let request = stripe_core::customer::CreateCustomer::new().metadata(metadata);
        self.send(request, format!("onramp-customer-{tenant_id}"))
            .await
    }

    /// Creates a subscription Checkout session; `attempt` keys this one request.
    pub(crate) async fn create_checkout(
        &self,
        spec: &CheckoutSpec<'_>,
        attempt: &str,
    ) -> anyhow::Result<Created> {
        use stripe_checkout::checkout_session::{
            CreateCheckoutSession, CreateCheckoutSessionLineItems,
            CreateCheckoutSessionSubscriptionData,
        };
        let metadata: std::collections::HashMap<String, String> = [
            ("tenant_id".to_owned(), spec.tenant_id.to_owned()),
            ("plan_id".to_owned(), spec.plan_id.to_owned()),
        ]
        .into_iter()
        .collect();
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price = Some(spec.price_id.to_owned());
        item.quantity = Some(spec.seats);
        let mut subscription = CreateCheckoutSessionSubscriptionData::new();
        subscription.metadata = Some(metadata.clone());
        subscription.trial_period_days = spec.trial_days;
        let request = CreateCheckoutSession::new()
            .mode(stripe_checkout::CheckoutSessionMode::Subscription)
            .customer(spec.customer)
            .client_reference_id(spec.tenant_id)
            .line_items(vec![item])
            .subscription_data(subscription)
            .metadata(metadata)
            .success_url(spec.success_url)
            .cancel_url(spec.cancel_url);
        self.send(request, format!("onramp-checkout-{attempt}"))
            .await
    }

    /// Creates a customer-portal session; `attempt` keys this one request.
    pub(crate) async fn create_portal(
        &self,
        customer: &str,
        return_url: &str,
        attempt: &str,
    ) -> anyhow::Result<Created> {
        let request = stripe_billing::billing_portal_session::CreateBillingPortalSession::new()
            .customer(customer)
            .return_url(return_url);
        self.send(request, format!("onramp-portal-{attempt}")).await
    }

    /// `GET /v1/subscriptions/{id}`: Stripe's current view of a subscription (read into billing's own
    /// view of the object, the one webhooks carry).
    pub(crate) async fn subscription(&self, id: &str) -> anyhow::Result<SubscriptionObject> {
        let request = self
            .http
            .get(format!("{}/v1/subscriptions/{id}", self.base));
        self.answer(request, "subscription").await
    }

    /// Sends `request` with the API key and decodes Stripe's JSON answer (`what` names it in errors).
    async fn answer<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> anyhow::Result<T> {
        request
            .bearer_auth(self.key.expose_secret())
            .send()
            .await
            .context("calling Stripe")?
            .error_for_status()
            .context("Stripe answered with an error")?
            .json()
            .await
            .with_context(|| format!("decoding Stripe's {what}"))
    }

    /// Every subscription (any status), following Stripe's pagination.
    pub(crate) async fn list_subscriptions(&self) -> anyhow::Result<Vec<SubscriptionObject>> {
        self.list_all(
            "/v1/subscriptions",
            &[("status", "all")],
            "subscription list",
            |s: &SubscriptionObject| &s.id,
        )
        .await
    }

    /// Every object of the list at `path` (filtered by `filters`), following Stripe's pagination
    /// (`starting_after` the last id seen, 100 a page).
    async fn list_all<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        filters: &[(&str, &str)],
        what: &str,
        id_of: impl Fn(&T) -> &str,
    ) -> anyhow::Result<Vec<T>> {
        #[derive(serde::Deserialize)]
        struct Page<T> {
            data: Vec<T>,
            #[serde(default)]
            has_more: bool,
        }
        let mut all: Vec<T> = Vec::new();
        loop {
            let mut query: Vec<(&str, String)> = filters
                .iter()
                .map(|(name, value)| (*name, (*value).to_owned()))
                .collect();
            query.push(("limit", "100".to_owned()));
            if let Some(last) = all.last() {
                query.push(("starting_after", id_of(last).to_owned()));
            }
            let request = self.http.get(format!("{}{path}", self.base)).query(&query);
            let page: Page<T> = self.answer(request, what).await?;
            let more = page.has_more && !page.data.is_empty();
            all.extend(page.data);
            if !more {
                return Ok(all);
            }
        }
    }

    /// Creates a Stripe object with a form-encoded POST to `path` (`/v1/products`), keyed by
    /// `idempotency_key`; answers the created object's id. For the catalog setup, whose objects the
    /// typed crates billing uses do not cover.
    pub(crate) async fn create_form(
        &self,
        path: &str,
        form: &[(&str, String)],
        idempotency_key: &str,
    ) -> anyhow::Result<String> {
        #[derive(serde::Deserialize)]
        struct Made {
            id: String,
        }
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("idempotency-key", idempotency_key)
            .form(form);
        let made: Made = self.answer(request, "answer").await?;
        Ok(made.id)
    }

    /// Every active price with its product expanded (for the catalog sync).
    pub(crate) async fn list_prices(&self) -> anyhow::Result<Vec<PriceObject>> {
        let filters = [("active", "true"), ("expand[]", "data.product")];
        self.list_all("/v1/prices", &filters, "price list", |p: &PriceObject| {
            &p.id
        })
        .await
    }
}

/// A price as the catalog sync reads it.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct PriceObject {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) lookup_key: Option<String>,
    #[serde(default)]
    pub(crate) product: Option<serde_json::Value>,
}

impl PriceObject {
    /// The product id, whether expanded or not.
    pub(crate) fn product_id(&self) -> Option<String> {
        match &self.product {
            Some(serde_json::Value::String(id)) => Some(id.clone()),
            Some(product) => product
                .get("id")
                .and_then(|id| id.as_str())
                .map(str::to_owned),
            None => None,
        }
    }

    /// Whether this price sells the plan `code` (lookup key, or the product's `onramp_plan_code`).
    pub(crate) fn sells(&self, code: &str) -> bool {
        self.lookup_key.as_deref() == Some(code)
            || self
                .product
                .as_ref()
                .and_then(|product| product.pointer("/metadata/onramp_plan_code"))
                .and_then(|value| value.as_str())
                == Some(code)
    }
}
