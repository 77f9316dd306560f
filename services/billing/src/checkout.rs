//! Checkout and the customer portal (stripe provider): one Stripe customer per tenant, ever, and a
//! Checkout session per purchase. Membership and URL checks happen at the gRPC edge before this runs.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    domain::plan::{LimitValue, Plan, PlanKind},
    error::BillingError,
    store,
    stripe::{CheckoutSpec, StripeApi},
};

/// Checkout and portal sessions.
#[derive(Debug, Clone)]
pub(crate) struct Checkout {
    pub(crate) pool: PgPool,
    pub(crate) stripe: Option<StripeApi>,
}

/// A created Checkout session.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) expires_at: Option<DateTime<Utc>>,
}

fn stripe_down(error: anyhow::Error) -> BillingError {
    BillingError::StripeUnavailable(error)
}

impl Checkout {
    fn stripe(&self) -> Result<&StripeApi, BillingError> {
        self.stripe.as_ref().ok_or_else(|| {
            BillingError::PermissionDenied(
                "payments need the stripe provider (this deployment runs manual)".to_owned(),
            )
        })
    }

    /// The tenant's customer, created at Stripe the first time.
    async fn customer(&self, stripe: &StripeApi, tenant_id: Uuid) -> Result<String, BillingError> {
        if let Some(customer) = store::subscriptions::customer_of(&self.pool, tenant_id).await? {
            return Ok(customer);
        }
        let created = stripe
            .create_customer(&tenant_id.to_string())
            .await
            .map_err(stripe_down)?;
        let mut tx = self.pool.begin().await?;
        // A concurrent first checkout may have linked one meanwhile: the stored link wins.
        let linked = store::subscriptions::link_customer(&mut tx, tenant_id, &created.id).await?;
        tx.commit().await?;
        linked.ok_or_else(|| BillingError::Unexpected(anyhow::anyhow!("customer link vanished")))
    }

    /// Starts a Checkout session for `plan` with `seats` (0 means 1).
    pub(crate) async fn checkout(
        &self,
        tenant_id: Uuid,
        plan: &Plan,
        seats: u32,
        success_url: &str,
        cancel_url: &str,
    ) -> Result<Session, BillingError> {
        let stripe = self.stripe()?;
        let (Some(plan_id), Some(price_id), PlanKind::Paid, false) = (
            plan.id,
            plan.stripe_price_id.as_deref(),
            plan.kind,
            plan.archived,
        ) else {
            return Err(BillingError::PermissionDenied(
                "this plan cannot be bought".to_owned(),
            ));
        };
        let seats = seats.max(1);
        if let Some(LimitValue::Max(max)) = plan.limit("seats")
            && i64::from(seats) > max
        {
            return Err(BillingError::invalid(
                "seats",
                format!("must be 1–{max} on this plan"),
            ));
        }
        if let Some(current) = store::entitlements::get(&self.pool, tenant_id).await?
            && current.source.as_deref() == Some("stripe_subscription")
            && matches!(current.state.as_str(), "active" | "past_due")
        {
            return Err(BillingError::Conflict(
                "the tenant already has a paid subscription; change it in the billing portal"
                    .to_owned(),
            ));
        }
        let customer = self.customer(stripe, tenant_id).await?;
        let spec = CheckoutSpec {
            customer: &customer,
            tenant_id: &tenant_id.to_string(),
            plan_id: &plan_id.to_string(),
            price_id,
            seats: u64::from(seats),
            trial_days: (plan.trial_days > 0 && plan.trial_requires_card)
                .then_some(plan.trial_days),
            success_url,
            cancel_url,
        };
        let created = stripe
            .create_checkout(&spec, &Uuid::new_v4().to_string())
            .await
            .map_err(stripe_down)?;
        let url = created
            .url
            .ok_or_else(|| stripe_down(anyhow::anyhow!("Checkout session without a URL")))?;
        Ok(Session {
            id: created.id,
            url,
            expires_at: created
                .expires_at
                .and_then(|t| DateTime::from_timestamp(t, 0)),
        })
    }

    /// A customer-portal URL for the tenant's existing customer.
    pub(crate) async fn portal(
        &self,
        tenant_id: Uuid,
        return_url: &str,
    ) -> Result<String, BillingError> {
        let stripe = self.stripe()?;
        let customer = store::subscriptions::customer_of(&self.pool, tenant_id)
            .await?
            .ok_or(BillingError::NoBillingAccount)?;
        let created = stripe
            .create_portal(&customer, return_url, &Uuid::new_v4().to_string())
            .await
            .map_err(stripe_down)?;
        created
            .url
            .ok_or_else(|| stripe_down(anyhow::anyhow!("portal session without a URL")))
    }
}

#[cfg(test)]
mod tests {
    //! Against real Postgres and an in-repo Stripe-compatible fake over HTTP (Checkout and the portal
    //! are not covered by localstripe), with failure injection.

    use std::sync::{Arc, Mutex};

    use axum::{
        Json, Router,
        extract::State,
        http::{HeaderMap, StatusCode},
        routing::post,
    };
    use onramp_kit::{config::SecretString, db};
    use serde_json::json;
    use sqlx::postgres::PgConnectOptions;

    use super::*;
    use crate::domain::plan::{Interval, Limit, LimitField, PlanCode};

    #[derive(Default)]
    struct Fake {
        /// (path, idempotency key) of every request.
        calls: Mutex<Vec<(String, Option<String>)>>,
        fail_checkout: Mutex<bool>,
    }

    fn record(fake: &Fake, path: &str, headers: &HeaderMap) -> usize {
        let key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut calls = fake
            .calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        calls.push((path.to_owned(), key));
        calls.len()
    }

    async fn fake_stripe(fake: Arc<Fake>) -> String {
        let app = Router::new()
            .route("/v1/customers", post(|State(f): State<Arc<Fake>>, h: HeaderMap| async move {
                let n = record(&f, "/v1/customers", &h);
                Json(json!({"id": format!("cus_fake{n}"), "object": "customer"}))
            }))
            .route("/v1/checkout/sessions", post(|State(f): State<Arc<Fake>>, h: HeaderMap| async move {
                let n = record(&f, "/v1/checkout/sessions", &h);
                if *f.fail_checkout.lock().unwrap_or_else(std::sync::PoisonError::into_inner) {
                    return Err((StatusCode::INTERNAL_SERVER_ERROR,
                        Json(json!({"error": {"type": "api_error", "message": "injected"}}))));
                }
                Ok(Json(json!({"id": format!("cs_test_{n}"), "object": "checkout.session",
                    "url": format!("https://checkout.stripe.test/c/{n}"), "expires_at": 1_900_000_000})))
            }))
            .route("/v1/billing_portal/sessions", post(|State(f): State<Arc<Fake>>, h: HeaderMap| async move {
                let n = record(&f, "/v1/billing_portal/sessions", &h);
                Json(json!({"id": format!("bps_{n}"), "object": "billing_portal.session",
                    "url": format!("https://billing.stripe.test/p/{n}")}))
            }))
            .with_state(fake);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    struct Db {
        server: PgConnectOptions,
        name: String,
        pool: PgPool,
    }

    async fn database() -> Db {
        let url = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let server: PgConnectOptions = url.parse().expect("DATABASE_URL");
        let name = format!(
            "onramp_test_{}_billing",
            &Uuid::new_v4().simple().to_string()[..12]
        );
        db::ensure_database(&server, &name).await.expect("create");
        let pool = PgPool::connect_with(server.clone().database(&name))
            .await
            .expect("connect");
        crate::startup::MIGRATOR.run(&pool).await.expect("migrate");
        Db { server, name, pool }
    }

    impl Db {
        async fn drop(self) {
            self.pool.close().await;
            db::drop_database(&self.server, &self.name)
                .await
                .expect("drop");
        }
    }

    fn paid_plan(max_seats: i64) -> Plan {
        Plan {
            id: Some(Uuid::parse_str("018f0000-0000-7000-8000-000000000002").expect("uuid")),
            code: PlanCode::parse("pro").expect("code"),
            name: "Pro".to_owned(),
            description: String::new(),
            kind: PlanKind::Paid,
            price_amount_minor: 2900,
            currency: "usd".to_owned(),
            interval: Some(Interval::Month),
            per_seat: true,
            trial_days: 0,
            trial_requires_card: true,
            public: true,
            archived: false,
            sort_order: 0,
            highlights: Vec::new(),
            stripe_product_id: Some("prod_pro".to_owned()),
            stripe_price_id: Some("price_pro".to_owned()),
            limits: vec![Limit {
                field: LimitField::parse("seats").expect("field"),
                value: LimitValue::Max(max_seats),
                display_name: String::new(),
            }],
        }
    }

    async fn setup() -> (Db, Arc<Fake>, Checkout) {
        let db = database().await;
        let fake = Arc::new(Fake::default());
        let base = fake_stripe(fake.clone()).await;
        let stripe = StripeApi::new(
            &base,
            SecretString::from(format!("sk_test_{}", Uuid::new_v4().simple())),
        )
        .expect("client");
        let checkout = Checkout {
            pool: db.pool.clone(),
            stripe: Some(stripe),
        };
        (db, fake, checkout)
    }

    fn calls(fake: &Fake, path: &str) -> Vec<Option<String>> {
        fake.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, key)| key.clone())
            .collect()
    }

    #[tokio::test]
    async fn checkout_creates_the_customer_once_and_keys_every_call() {
        let (db, fake, checkout) = setup().await;
        let tenant = Uuid::new_v4();
        let plan = paid_plan(10);
        let first = checkout
            .checkout(tenant, &plan, 3, "http://a/ok", "http://a/no")
            .await
            .expect("first");
        let second = checkout
            .checkout(tenant, &plan, 0, "http://a/ok", "http://a/no")
            .await
            .expect("second");
        assert!(first.url.starts_with("https://checkout.stripe.test/") && first.id != second.id);
        assert_eq!(
            calls(&fake, "/v1/customers").len(),
            1,
            "never a second customer"
        );
        let customer: Option<String> = store::subscriptions::customer_of(&db.pool, tenant)
            .await
            .expect("read");
        assert_eq!(customer.as_deref(), Some("cus_fake1"));
        let keys: Vec<_> = calls(&fake, "/v1/checkout/sessions")
            .into_iter()
            .chain(calls(&fake, "/v1/customers"))
            .collect();
        assert!(
            keys.iter().all(Option::is_some),
            "every mutating call carries an idempotency key: {keys:?}"
        );
        assert_eq!(
            calls(&fake, "/v1/customers")[0].as_deref(),
            Some(format!("onramp-customer-{tenant}").as_str())
        );
        db.drop().await;
    }

    #[tokio::test]
    async fn seats_past_the_plan_maximum_are_refused_before_stripe() {
        let (db, fake, checkout) = setup().await;
        let refused = checkout
            .checkout(Uuid::new_v4(), &paid_plan(5), 6, "http://a", "http://a")
            .await;
        assert!(
            matches!(refused, Err(BillingError::InvalidArgument { ref field, .. }) if field == "seats")
        );
        assert!(calls(&fake, "/v1/customers").is_empty());
        db.drop().await;
    }

    #[tokio::test]
    async fn a_stripe_failure_is_stripe_unavailable_and_retry_reuses_the_customer() {
        let (db, fake, checkout) = setup().await;
        *fake
            .fail_checkout
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        let tenant = Uuid::new_v4();
        let failed = checkout
            .checkout(tenant, &paid_plan(5), 1, "http://a", "http://a")
            .await;
        assert!(matches!(failed, Err(BillingError::StripeUnavailable(_))));
        *fake
            .fail_checkout
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = false;
        checkout
            .checkout(tenant, &paid_plan(5), 1, "http://a", "http://a")
            .await
            .expect("retry");
        assert_eq!(calls(&fake, "/v1/customers").len(), 1);
        db.drop().await;
    }

    #[tokio::test]
    async fn the_portal_needs_a_billing_account() {
        let (db, fake, checkout) = setup().await;
        let tenant = Uuid::new_v4();
        let none = checkout.portal(tenant, "http://a/billing").await;
        assert!(matches!(none, Err(BillingError::NoBillingAccount)));
        assert!(calls(&fake, "/v1/billing_portal/sessions").is_empty());
        checkout
            .checkout(tenant, &paid_plan(5), 1, "http://a", "http://a")
            .await
            .expect("checkout");
        let url = checkout
            .portal(tenant, "http://a/billing")
            .await
            .expect("portal");
        assert!(url.starts_with("https://billing.stripe.test/"));
        assert!(calls(&fake, "/v1/billing_portal/sessions")[0].is_some());
        let manual = Checkout {
            pool: db.pool.clone(),
            stripe: None,
        };
        assert!(matches!(
            manual.portal(tenant, "x").await,
            Err(BillingError::PermissionDenied(_))
        ));
        db.drop().await;
    }
}
