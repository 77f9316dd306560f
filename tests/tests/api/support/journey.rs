//! The journey tests' world: the whole stack mailing to one sink, billing on the stripe provider
//! (talking to a [`StripeFake`]) or on the manual one (no Stripe at all), and one helper per step a
//! browser takes (the team and payouts steps are in `journey_team`). Everything the journey does
//! goes over HTTP through the gateway; the only other calls are the operator's one-time catalog
//! sync and what Stripe itself does.

use std::{sync::Arc, time::Duration};

use onramp_kit::config::SecretString;
use onramp_proto::{billing::v1::SyncStripePricesRequest, common::v1::Caller};
use onramp_tenant_provisioning::client::{Observation, Readiness, ReadinessPolicy};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Notify;
use uuid::Uuid;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use super::{
    TestStack, User,
    billing::{OPERATOR, billing_on, billing_rpc},
    stripe::{STRIPE_KEY, StripeFake},
    tenancy::starter_data,
    users::status_and_json,
};

/// Which billing provider the journey runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    Stripe,
    Manual,
}

/// The stack, the Stripe it talks to (none for the manual provider) and billing's webhook secret.
pub(crate) struct Journey {
    pub(crate) world: TestStack,
    pub(crate) stripe: Option<StripeFake>,
    pub(crate) webhook_secret: String,
    /// A client that does not follow redirects (the Connect start route answers 303 to Stripe).
    pub(crate) browser: reqwest::Client,
}

impl Journey {
    pub(crate) async fn spawn(provider: Provider) -> Self {
        Self::spawn_with(provider, |_| {}).await
    }

    /// [`Journey::spawn`] with `adjust` applied after the journey's own settings.
    pub(crate) async fn spawn_with(
        provider: Provider,
        adjust: impl FnOnce(&mut onramp_stack::StackOptions),
    ) -> Self {
        let stripe = match provider {
            Provider::Stripe => Some(StripeFake::start().await),
            Provider::Manual => None,
        };
        let base = stripe.as_ref().map(|s| s.base.clone());
        let webhook_secret = format!("whsec_{}", Uuid::new_v4().simple());
        let secret = SecretString::from(webhook_secret.clone());
        let world = TestStack::with_mail_and(|options| {
            options.billing_webhook_secrets = vec![secret];
            billing_on(options, base.clone());
            options.billing(|config| config.reconcile_interval = Duration::ZERO);
            options.tenancy(|config: &mut onramp_tenant_provisioning::Config| {
                config.payment_retry_after = Duration::from_secs(1);
            });
            options.onboarding(move |config: &mut onramp_onboarding::Config| {
                // Generous: a loaded CI machine must not turn a step `unknown`.
                config.checklist_peer_timeout = Duration::from_secs(5);
                if let Some(base) = &base {
                    config.stripe_secret_key = Some(STRIPE_KEY.to_owned().into());
                    config.stripe_api_base = base.clone();
                }
            });
            adjust(options);
        })
        .await;
        Self {
            world,
            stripe,
            webhook_secret,
            browser: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    pub(crate) fn stripe(&self) -> &StripeFake {
        self.stripe.as_ref().expect("the stripe provider")
    }

    pub(crate) fn url(&self, path: &str) -> String {
        self.world.url(path)
    }

    /// The operator's one-time setup: a Stripe product and price for `pro` (a localstripe plan, which
    /// Stripe's API accepts wherever a price goes) and billing's catalog sync to pick it up. Returns
    /// the price id.
    pub(crate) async fn sell_pro_at_stripe(&self) -> String {
        let stripe = self.stripe();
        let product = stripe
            .localstripe
            .call(Method::POST, "/v1/products", &[("name", "Pro")])
            .await;
        let product_id = product["id"].as_str().expect("product id").to_owned();
        let price = format!("price_pro_{}", &Uuid::new_v4().simple().to_string()[..8]);
        stripe
            .localstripe
            .call(
                Method::POST,
                "/v1/plans",
                &[
                    ("id", price.as_str()),
                    ("product", product_id.as_str()),
                    ("amount", "2900"),
                    ("currency", "usd"),
                    ("interval", "month"),
                ],
            )
            .await;
        // localstripe has no /v1/prices: the list the sync reads comes from wiremock.
        Mock::given(method("GET"))
            .and(path("/v1/prices"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "object": "list", "has_more": false, "url": "/v1/prices",
                "data": [{"id": price, "object": "price", "active": true, "lookup_key": "pro",
                          "product": {"id": product_id, "object": "product", "metadata": {}}}]
            })))
            .mount(&stripe.mock)
            .await;
        let mut billing = billing_rpc(&self.world).await;
        let synced = billing
            .sync_stripe_prices(SyncStripePricesRequest {
                caller: Some(Caller {
                    user_id: OPERATOR.to_owned(),
                    ..Caller::default()
                }),
                dry_run: false,
            })
            .await
            .expect("sync")
            .into_inner();
        assert_eq!(synced.updated_plan_codes, ["pro"]);
        price
    }

    /// `POST /v1/tenants` with an idempotency key (and a `traceparent` when given).
    pub(crate) async fn provision(
        &self,
        owner: &User,
        key: &str,
        traceparent: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .world
            .authed(Method::POST, "/v1/tenants", &owner.access_token)
            .header("idempotency-key", key)
            .json(&json!({ "name": "Acme Rockets" }));
        if let Some(traceparent) = traceparent {
            request = request.header("traceparent", traceparent);
        }
        request.send().await.expect("provision")
    }

    /// A signed-in GET answering 200 with JSON.
    pub(crate) async fn get_json(&self, user: &User, path: &str) -> Value {
        self.world.get_ok(user, path).await
    }

    /// A signed-in POST of JSON; (status, body).
    pub(crate) async fn post_json(&self, user: &User, path: &str, body: Value) -> (u16, Value) {
        self.post_traced(user, path, body, None).await
    }

    /// [`Journey::post_json`] continuing the caller's `traceparent` when given.
    pub(crate) async fn post_traced(
        &self,
        user: &User,
        path: &str,
        body: Value,
        traceparent: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self
            .world
            .authed(Method::POST, path, &user.access_token)
            .json(&body);
        if let Some(traceparent) = traceparent {
            request = request.header("traceparent", traceparent);
        }
        let (status, body) = status_and_json(request).await;
        (status.as_u16(), body)
    }

    /// The payment-gated starter data: asserts 402 `PAYMENT_PENDING` with a `Retry-After`.
    pub(crate) async fn assert_payment_pending(&self, owner: &User, tenant: &str) {
        let response = starter_data(&self.world, owner, tenant).await;
        assert_eq!(response.status(), StatusCode::PAYMENT_REQUIRED);
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        assert!(
            retry_after.is_some_and(|s| s >= 1),
            "Retry-After: {retry_after:?}"
        );
        let problem: Value = response.json().await.expect("problem");
        assert_eq!(problem["reason"], "PAYMENT_PENDING", "{problem}");
    }

    /// The shipped client policy polling `GET /v1/tenants/{id}/status` over HTTP. `first_pending` is
    /// told when a poll has seen the tenant still pending (so the test can let Stripe act only then).
    pub(crate) async fn wait_until_ready(
        &self,
        owner: &User,
        tenant: &str,
        first_pending: Arc<Notify>,
    ) -> Readiness {
        let path = format!("/v1/tenants/{tenant}/status");
        ReadinessPolicy::default()
            .wait_until_ready(|| {
                let request = self.world.authed(Method::GET, &path, &owner.access_token);
                let first_pending = first_pending.clone();
                async move {
                    let response = request.send().await?.error_for_status()?;
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok())
                        .map(Duration::from_secs);
                    let status: Value = response.json().await?;
                    let ready = status["ready"] == true;
                    if !ready {
                        first_pending.notify_one();
                    }
                    Ok::<_, reqwest::Error>(Observation { ready, retry_after })
                }
            })
            .await
    }

    /// The checklist's step states, in order.
    pub(crate) async fn checklist(&self, user: &User, tenant: &str) -> Vec<(String, String)> {
        let view = self
            .get_json(user, &format!("/v1/onboarding?tenant_id={tenant}"))
            .await;
        view["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|step| {
                (
                    step["id"].as_str().unwrap_or_default().to_owned(),
                    step["state"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

/// A fresh sampled `traceparent` and its trace id.
pub(crate) fn traceparent() -> (String, String) {
    let trace_id = crate::support::new_trace_id();
    (crate::support::traceparent_of(&trace_id), trace_id)
}
