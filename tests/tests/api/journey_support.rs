//! The journey tests' world: the whole stack mailing to one sink, billing on the stripe provider
//! (talking to [`StripeFront`]) or on the manual one (no Stripe at all), and one helper per step a
//! browser takes. Everything the journey does goes over HTTP through the gateway; the only other
//! calls are the operator's one-time catalog sync and what Stripe itself does.

use std::{sync::Arc, time::Duration};

use onramp_kit::config::SecretString;
use onramp_proto::{
    billing::v1::{SyncStripePricesRequest, billing_service_client::BillingServiceClient},
    common::v1::Caller,
};
use onramp_stack::ConfigHook;
use onramp_tenant_provisioning::client::{Observation, Readiness, ReadinessPolicy};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Notify;
use uuid::Uuid;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use crate::{
    identity::{PASSWORD, login, new_email, post, signup},
    journey_stripe::{STRIPE_KEY, StripeFront},
    world::{User, World, link_token, mail_text},
};

/// Which billing provider the journey runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    Stripe,
    Manual,
}

/// The stack, the Stripe it talks to (none for the manual provider) and billing's webhook secret.
pub(crate) struct Journey {
    pub(crate) world: World,
    pub(crate) stripe: Option<StripeFront>,
    pub(crate) webhook_secret: String,
    operator: Uuid,
    /// A client that does not follow redirects (the Connect start route answers 303 to Stripe).
    pub(crate) browser: reqwest::Client,
}

/// Applies `previous` (World's SMTP settings) and then `mine`.
fn chain<T: 'static>(
    previous: Option<ConfigHook<T>>,
    mine: impl Fn(&mut T) + Send + Sync + 'static,
) -> Option<ConfigHook<T>> {
    Some(ConfigHook::new(move |config: &mut T| {
        if let Some(previous) = &previous {
            previous.apply(config);
        }
        mine(config);
    }))
}

impl Journey {
    pub(crate) async fn spawn(provider: Provider) -> Self {
        let stripe = match provider {
            Provider::Stripe => Some(StripeFront::start().await),
            Provider::Manual => None,
        };
        let base = stripe.as_ref().map(|s| s.base.clone());
        let webhook_secret = format!("whsec_{}", Uuid::new_v4().simple());
        let operator = Uuid::new_v4();
        let secret = SecretString::from(webhook_secret.clone());
        let world = World::spawn_with(|options| {
            options.billing_webhook_secrets = vec![secret];
            let billing_base = base.clone();
            options.configure_billing = chain(
                options.configure_billing.take(),
                move |config: &mut onramp_billing::Config| {
                    config.outbox_poll_interval = Duration::from_millis(50);
                    config.reconcile_interval = Duration::ZERO;
                    config.billing_operator_user_ids = vec![operator.to_string()];
                    match &billing_base {
                        Some(base) => {
                            config.billing_provider = Some(onramp_billing::ProviderKind::Stripe);
                            config.stripe_secret_key = Some(STRIPE_KEY.to_owned().into());
                            config.stripe_api_base = base.clone();
                        }
                        None => {
                            config.billing_provider = Some(onramp_billing::ProviderKind::Manual);
                        }
                    }
                },
            );
            options.configure_tenancy = chain(
                options.configure_tenancy.take(),
                |config: &mut onramp_tenant_provisioning::Config| {
                    config.payment_retry_after = Duration::from_secs(1);
                },
            );
            options.configure_onboarding = chain(
                options.configure_onboarding.take(),
                move |config: &mut onramp_onboarding::Config| {
                    // Generous: a loaded CI machine must not turn a step `unknown`.
                    config.checklist_peer_timeout = Duration::from_secs(5);
                    if let Some(base) = &base {
                        config.stripe_secret_key = Some(STRIPE_KEY.to_owned().into());
                        config.stripe_api_base = base.clone();
                    }
                },
            );
        })
        .await;
        Self {
            world,
            stripe,
            webhook_secret,
            operator,
            browser: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    pub(crate) fn stripe(&self) -> &StripeFront {
        self.stripe.as_ref().expect("the stripe provider")
    }

    pub(crate) fn url(&self, path: &str) -> String {
        self.world.app.url(path)
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
        let addr = self
            .world
            .app
            .stack
            .service_addr("billing")
            .expect("billing runs");
        let mut billing = BillingServiceClient::connect(format!("http://{addr}"))
            .await
            .expect("billing");
        let synced = billing
            .sync_stripe_prices(SyncStripePricesRequest {
                caller: Some(Caller {
                    user_id: self.operator.to_string(),
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
        let response = self
            .world
            .authed(Method::GET, path, &user.access_token)
            .send()
            .await
            .expect("get");
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// A signed-in POST of JSON; (status, body).
    pub(crate) async fn post_json(&self, user: &User, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .world
            .authed(Method::POST, path, &user.access_token)
            .json(&body)
            .send()
            .await
            .expect("post");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The payment-gated starter data: asserts 402 `PAYMENT_PENDING` with a `Retry-After`.
    pub(crate) async fn assert_payment_pending(&self, owner: &User, tenant: &str) {
        let response = self
            .world
            .authed(
                Method::GET,
                &format!("/v1/tenants/{tenant}/starter-data"),
                &owner.access_token,
            )
            .send()
            .await
            .expect("starter data");
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

    /// The owner invites a new address; the teammate gets the mail, signs up, verifies from the
    /// second mail (the first is the invite), and accepts. Returns the teammate.
    pub(crate) async fn teammate_joins(&self, owner: &User, tenant: &str) -> User {
        let email = new_email();
        let (status, created) = self
            .post_json(
                owner,
                &format!("/v1/tenants/{tenant}/invites"),
                json!({ "invites": [{ "email": email, "role": "member" }] }),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["results"][0]["outcome"], "created", "{created}");
        let invite = self.world.nth_mail(&email, 1).await;
        let code = invite_code(&mail_text(&invite));

        let app = &self.world.app;
        assert_eq!(
            signup(app, &email, PASSWORD).await.status(),
            StatusCode::ACCEPTED
        );
        let verification = self.world.nth_mail(&email, 2).await;
        let verified = post(
            app,
            "/v1/auth/verify-email",
            json!({ "token": link_token(&verification) }),
        )
        .await;
        assert_eq!(verified.status(), StatusCode::OK, "verify-email");
        let session: Value = login(app, &email, PASSWORD)
            .await
            .json()
            .await
            .expect("session");
        let access_token = session["access_token"].as_str().expect("access").to_owned();
        let me = self
            .get_json(
                &User {
                    email: email.clone(),
                    id: String::new(),
                    access_token: access_token.clone(),
                },
                "/v1/users/me",
            )
            .await;
        let teammate = User {
            email,
            id: me["id"].as_str().expect("id").to_owned(),
            access_token,
        };
        let (status, accepted) = self
            .post_json(&teammate, &format!("/v1/invites/{code}/accept"), json!({}))
            .await;
        assert_eq!(status, 200, "{accepted}");
        assert_eq!(accepted["membership"]["role"], "member", "{accepted}");
        assert_eq!(accepted["tenant"]["id"], tenant, "{accepted}");
        teammate
    }

    /// `GET /v1/usage/seats?tenant_id=…` → `used`.
    pub(crate) async fn seats_used(&self, user: &User, tenant: &str) -> i64 {
        let usage = self
            .get_json(user, &format!("/v1/usage/seats?tenant_id={tenant}"))
            .await;
        usage["used"].as_i64().expect("used")
    }

    pub(crate) async fn stop(self) {
        self.world.stop().await;
    }
}

/// The invite code in an invite mail's link (`…/invites/<code>`).
pub(crate) fn invite_code(text: &str) -> String {
    let start = text.find("/invites/").expect("an invite link") + "/invites/".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// A fresh sampled `traceparent` and its trace id.
pub(crate) fn traceparent() -> (String, String) {
    let trace_id = crate::helpers::new_trace_id();
    (format!("00-{trace_id}-00f067aa0ba902b7-01"), trace_id)
}

/// Stripe's account-link URL the Connect start route redirects to.
pub(crate) const ACCOUNT_LINK: &str = "https://connect.stripe.test/setup/s/journey";

impl Journey {
    /// Connect onboarding: the owner creates the connected account and a token; the first start
    /// meets one injected AccountLinks failure (502 `STRIPE_UNAVAILABLE`), the retry gets the 303.
    pub(crate) async fn connect_with_one_stripe_failure(&self, owner: &User, tenant: &str) {
        let mock = &self.stripe().mock;
        Mock::given(method("POST"))
            .and(path("/v1/accounts"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(crate::onboarding_connect::account_json(false)),
            )
            .mount(mock)
            .await;
        Mock::given(method("POST"))
            .and(path("/v1/account_links"))
            .respond_with(ResponseTemplate::new(500).set_body_json(
                json!({"error": {"type": "api_error", "message": "injected failure"}}),
            ))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(mock)
            .await;
        let expires = chrono::Utc::now().timestamp() + 300;
        Mock::given(method("POST"))
            .and(path("/v1/account_links"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "object": "account_link", "created": expires - 300, "expires_at": expires,
                "url": ACCOUNT_LINK,
            })))
            .with_priority(2)
            .mount(mock)
            .await;

        let (status, account) = self
            .post_json(
                owner,
                "/v1/onboarding/connect/account",
                json!({ "tenant_id": tenant, "country": "US" }),
            )
            .await;
        assert_eq!(status, 200, "{account}");
        assert_eq!(account["created"], true, "{account}");
        let (status, created) = self
            .post_json(
                owner,
                &format!("/v1/onboarding/connect/tokens?tenant_id={tenant}"),
                json!({}),
            )
            .await;
        assert!(matches!(status, 200 | 201), "{status} {created}");
        let token = created["token"].as_str().expect("token").to_owned();

        let start = || {
            self.browser
                .get(self.url("/v1/onboarding/connect/start"))
                .query(&[("token", token.as_str())])
                .send()
        };
        let failed = start().await.expect("start");
        assert_eq!(failed.status(), StatusCode::BAD_GATEWAY);
        let problem: Value = failed.json().await.expect("problem");
        assert_eq!(problem["reason"], "STRIPE_UNAVAILABLE", "{problem}");
        let started = start().await.expect("retry");
        assert_eq!(started.status(), StatusCode::SEE_OTHER);
        assert_eq!(started.headers()["location"], ACCOUNT_LINK);
    }
}
