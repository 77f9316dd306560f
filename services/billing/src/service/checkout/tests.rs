//! Against real Postgres and an in-repo Stripe-compatible fake over HTTP (Checkout and the portal
//! are not covered by localstripe), with failure injection.

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use onramp_kit::{config::SecretString, testing::TestDatabase};
use serde_json::json;

use super::*;
use crate::domain::plan::{Interval, Limit, LimitField, PlanCode};

#[derive(Default)]
struct Fake {
    /// (path, idempotency key) of every request.
    calls: Mutex<Vec<(String, Option<String>)>>,
    fail_checkout: Mutex<bool>,
    customers_by_key: Mutex<std::collections::HashMap<String, String>>,
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
        .route(
            "/v1/customers",
            post(|State(f): State<Arc<Fake>>, h: HeaderMap| async move {
                // Like Stripe: a repeated idempotency key answers the first result.
                let key = h
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let n = record(&f, "/v1/customers", &h);
                let mut seen = f
                    .customers_by_key
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let id = seen
                    .entry(key)
                    .or_insert_with(|| format!("cus_fake{n}"))
                    .clone();
                Json(json!({"id": id, "object": "customer"}))
            }),
        )
        .route(
            "/v1/checkout/sessions",
            post(|State(f): State<Arc<Fake>>, h: HeaderMap| async move {
                let n = record(&f, "/v1/checkout/sessions", &h);
                if *f
                    .fail_checkout
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                {
                    return Err((
                        StatusCode::INTERNAL_SERVER_ERROR,
                        Json(json!({"error": {"type": "api_error", "message": "injected"}})),
                    ));
                }
                Ok(Json(
                    json!({"id": format!("cs_test_{n}"), "object": "checkout.session",
                "url": format!("https://checkout.stripe.test/c/{n}"), "expires_at": 1_900_000_000}),
                ))
            }),
        )
        .route(
            "/v1/billing_portal/sessions",
            post(|State(f): State<Arc<Fake>>, h: HeaderMap| async move {
                let n = record(&f, "/v1/billing_portal/sessions", &h);
                Json(
                    json!({"id": format!("bps_{n}"), "object": "billing_portal.session",
                "url": format!("https://billing.stripe.test/p/{n}")}),
                )
            }),
        )
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

struct Db {
    database: TestDatabase,
    pool: PgPool,
}

async fn database() -> Db {
    let database = TestDatabase::create("billing").await;
    let pool = database.connect().await;
    crate::startup::MIGRATOR.run(&pool).await.expect("migrate");
    Db { database, pool }
}

impl Db {
    async fn drop(self) {
        self.pool.close().await;
        self.database.remove().await;
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
async fn concurrent_first_checkouts_share_one_customer() {
    let (db, _fake, checkout) = setup().await;
    let tenant = Uuid::new_v4();
    let plan = paid_plan(10);
    let attempts = (0..4).map(|_| checkout.checkout(tenant, &plan, 1, "http://a", "http://a"));
    for result in futures::future::join_all(attempts).await {
        result.expect("checkout");
    }
    let customers: i64 =
        sqlx::query_scalar("select count(distinct stripe_customer_id) from customers")
            .fetch_one(&db.pool)
            .await
            .expect("count");
    assert_eq!(customers, 1);
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
