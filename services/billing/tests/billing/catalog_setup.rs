//! `billing setup-stripe` against a Stripe stand-in that starts empty, as a fresh test account does:
//! the paid plans' products and prices are created once (by lookup key), linked into the catalog,
//! and a second run creates nothing.

use std::sync::{Arc, Mutex};

use axum::{Json, Router, body::Bytes, extract::State, routing::get, routing::post};
use onramp_proto::billing::v1::GetPlanCatalogRequest;
use serde_json::{Value, json};

use crate::helpers::{TestBilling, use_stripe};

/// What the stand-in holds: products and prices created through it, in order.
#[derive(Clone, Default)]
struct Account {
    products: Arc<Mutex<Vec<Value>>>,
    prices: Arc<Mutex<Vec<Value>>>,
}

impl Account {
    fn products(&self) -> Vec<Value> {
        self.products.lock().expect("lock").clone()
    }

    fn prices(&self) -> Vec<Value> {
        self.prices.lock().expect("lock").clone()
    }
}

/// A form-encoded Stripe request body as `{"name": "value"}` (bracketed names kept whole).
fn form(body: &Bytes) -> Value {
    url::form_urlencoded::parse(body)
        .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

async fn create_product(State(account): State<Account>, body: Bytes) -> Json<Value> {
    let fields = form(&body);
    let mut products = account.products.lock().expect("lock");
    let product = json!({
        "id": format!("prod_{}", products.len() + 1),
        "name": fields["name"],
        "metadata": {"onramp_plan_code": fields["metadata[onramp_plan_code]"]},
    });
    products.push(product.clone());
    Json(product)
}

async fn create_price(State(account): State<Account>, body: Bytes) -> Json<Value> {
    let fields = form(&body);
    let mut prices = account.prices.lock().expect("lock");
    let price = json!({
        "id": format!("price_{}", prices.len() + 1),
        "lookup_key": fields["lookup_key"],
        "product": fields["product"],
        "unit_amount": fields["unit_amount"],
        "currency": fields["currency"],
        "recurring": {"interval": fields["recurring[interval]"]},
    });
    prices.push(price.clone());
    Json(price)
}

/// `GET /v1/prices?expand[]=data.product`: every price with its product object.
async fn list_prices(State(account): State<Account>) -> Json<Value> {
    let products = account.products();
    let data: Vec<Value> = account
        .prices()
        .into_iter()
        .map(|mut price| {
            let product = products
                .iter()
                .find(|product| product["id"] == price["product"])
                .cloned()
                .unwrap_or(Value::Null);
            price["product"] = product;
            price
        })
        .collect();
    Json(json!({"object": "list", "has_more": false, "data": data}))
}

async fn stripe_account() -> (Account, String) {
    let account = Account::default();
    let app = Router::new()
        .route("/v1/products", post(create_product))
        .route("/v1/prices", get(list_prices).post(create_price))
        .with_state(account.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (account, base)
}

#[tokio::test]
async fn setup_stripe_creates_each_paid_plan_once_and_links_it() {
    let (account, base) = stripe_account().await;
    let (app, operator) = TestBilling::with_operator(move |config| {
        use_stripe(config, "sk_test_setup", base);
    })
    .await;

    let first = onramp_billing::setup_stripe_command(app.config.clone())
        .await
        .expect("first run");
    assert!(first.contains("created in Stripe: [pro]"), "{first}");
    assert!(first.contains("linked: [pro]"), "{first}");
    let prices = account.prices();
    assert_eq!(prices.len(), 1, "{prices:?}");
    assert_eq!(prices[0]["lookup_key"], json!("pro"));
    assert_eq!(prices[0]["unit_amount"], json!("2900"));
    assert_eq!(prices[0]["recurring"]["interval"], json!("month"));

    let second = onramp_billing::setup_stripe_command(app.config.clone())
        .await
        .expect("second run");
    assert!(second.contains("created in Stripe: []"), "{second}");
    assert_eq!(account.products().len(), 1, "no duplicate product");
    assert_eq!(account.prices().len(), 1, "no duplicate price");

    let catalog = app
        .client
        .clone()
        .get_plan_catalog(GetPlanCatalogRequest {
            caller: Some(onramp_proto::common::v1::Caller {
                user_id: operator,
                ..Default::default()
            }),
        })
        .await
        .expect("catalog")
        .into_inner();
    let pro = catalog
        .plans
        .iter()
        .find(|plan| plan.code == "pro")
        .expect("pro");
    assert_eq!(pro.stripe_price_id, "price_1");
    assert_eq!(pro.stripe_product_id, "prod_1");
    app.stop().await;
}
