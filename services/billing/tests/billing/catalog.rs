//! The plan catalog: public listing, and the admin read/write as one transaction with optimistic
//! concurrency and an audit row per changed plan.

use onramp_kit::{ApiError, Code};
use onramp_proto::{
    billing::v1::{
        BillingProvider, GetPlanCatalogRequest, LimitValue, ListPublicPlansRequest, Plan, PlanKind,
        PlanLimit, PutPlanCatalogRequest, limit_value::Value,
    },
    common::v1::Money,
};
use uuid::Uuid;

use crate::helpers::{TestBilling, assert_invalid, caller, use_stripe};

fn enterprise() -> Plan {
    Plan {
        code: "enterprise".to_owned(),
        name: "Enterprise".to_owned(),
        kind: PlanKind::Complimentary as i32,
        price: Some(Money {
            amount_minor: 0,
            currency: "usd".to_owned(),
        }),
        public: false,
        sort_order: 30,
        limits: vec![PlanLimit {
            field: "seats".to_owned(),
            value: Some(LimitValue {
                value: Some(Value::Max(500)),
            }),
            display_name: "Team members".to_owned(),
        }],
        ..Plan::default()
    }
}

#[tokio::test]
async fn public_plans_hide_stripe_ids_private_and_archived_plans() {
    let (app, operator) = TestBilling::with_operator(|_| {}).await;
    let mut current = app.catalog(&operator).await;
    current.plans[1].stripe_price_id = "price_pro_monthly".to_owned();
    current.plans[1].stripe_product_id = "prod_pro".to_owned();
    current.plans.push(enterprise());
    app.put_catalog(&operator, current.version, current.plans)
        .await
        .expect("written");

    let public = app
        .client
        .clone()
        .list_public_plans(ListPublicPlansRequest { caller: None })
        .await
        .expect("public")
        .into_inner();
    let codes: Vec<&str> = public.plans.iter().map(|plan| plan.code.as_str()).collect();
    assert_eq!(codes, ["free", "pro"], "private plans are not listed");
    assert!(
        public
            .plans
            .iter()
            .all(|plan| plan.stripe_price_id.is_empty() && plan.stripe_product_id.is_empty())
    );
    assert_eq!(public.provider(), BillingProvider::Manual);
    assert_eq!(public.cache_max_age_seconds, 300);
    app.stop().await;
}

#[tokio::test]
async fn a_write_bumps_the_version_and_audits_each_changed_plan() {
    let (app, operator) = TestBilling::with_operator(|_| {}).await;
    let mut current = app.catalog(&operator).await;
    current.plans[1].name = "Pro (2026)".to_owned();
    current.plans.push(enterprise());
    let written = app
        .put_catalog(&operator, current.version, current.plans.clone())
        .await
        .expect("written");
    assert_eq!(written.version, current.version + 1);
    assert_eq!(written.changed_plan_codes, ["pro", "enterprise"]);
    assert_eq!(
        app.count("select count(*) from audit_log where action = 'catalog.put'")
            .await,
        2
    );
    let again = app.catalog(&operator).await;
    assert_eq!(again.plans, written.plans, "what was stored round-trips");

    // The same write again, on the old version: refused, nothing changes.
    let stale = app
        .put_catalog(&operator, current.version, current.plans)
        .await
        .expect_err("stale version");
    assert_eq!(ApiError::from_status(&stale).code, Code::Conflict);
    assert_eq!(app.catalog(&operator).await.version, written.version);
    app.stop().await;
}

/// A change to a catalog about to be written.
type Edit = Box<dyn Fn(&mut Vec<Plan>)>;

#[tokio::test]
async fn one_bad_row_rolls_back_the_whole_write() {
    let (app, operator) = TestBilling::with_operator(|_| {}).await;
    let before = app.catalog(&operator).await;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "plans[2].limits[0].field",
            Box::new(|plans| {
                plans.push(enterprise());
                plans[2].limits[0].field = "Bad Field".to_owned();
            }),
        ),
        (
            "plans[2].code",
            Box::new(|plans| {
                let mut duplicate = enterprise();
                duplicate.code = "free".to_owned();
                plans.push(duplicate);
            }),
        ),
        (
            "plans",
            Box::new(|plans| {
                plans.remove(0);
            }),
        ),
        (
            "plans[1].limits",
            Box::new(|plans| {
                plans[1].limits.retain(|limit| limit.field != "seats");
            }),
        ),
        (
            "plans[2].limits[1].value",
            Box::new(|plans| {
                let mut odd = enterprise();
                odd.limits.push(PlanLimit {
                    field: "api_access".to_owned(),
                    value: Some(LimitValue {
                        value: Some(Value::Max(1)),
                    }),
                    display_name: String::new(),
                });
                plans.push(odd);
            }),
        ),
    ];
    for (field, change) in cases {
        let mut plans = before.plans.clone();
        plans[0].name = "Renamed in the same write".to_owned();
        change(&mut plans);
        let status = app
            .put_catalog(&operator, before.version, plans)
            .await
            .expect_err(field);
        assert_invalid(&status, field);
        let after = app.catalog(&operator).await;
        assert_eq!(
            (after.version, &after.plans),
            (before.version, &before.plans),
            "{field}"
        );
    }
    assert_eq!(app.count("select count(*) from audit_log").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn only_operators_read_or_write_the_catalog() {
    let (app, _operator) = TestBilling::with_operator(|_| {}).await;
    let denied = app
        .client
        .clone()
        .get_plan_catalog(GetPlanCatalogRequest {
            caller: caller(&Uuid::new_v4().to_string()),
        })
        .await
        .expect_err("not an operator");
    assert_eq!(ApiError::from_status(&denied).code, Code::PermissionDenied);
    let anonymous = app
        .client
        .clone()
        .put_plan_catalog(PutPlanCatalogRequest::default())
        .await
        .expect_err("anonymous");
    assert_eq!(
        ApiError::from_status(&anonymous).code,
        Code::Unauthenticated
    );
    app.stop().await;
}

/// A Stripe stand-in listing two prices: one for an unknown plan, one selling `pro` through its
/// product's `onramp_plan_code`. Returns its base URL.
async fn prices_fake() -> String {
    use axum::{Json, Router, routing::get};
    let app = Router::new().route(
        "/v1/prices",
        get(|| async {
            Json(
                serde_json::json!({"object": "list", "has_more": false, "data": [
                    {"id": "price_other", "lookup_key": "legacy", "product": "prod_legacy"},
                    {"id": "price_pro_m", "lookup_key": null,
                     "product": {"id": "prod_pro", "metadata": {"onramp_plan_code": "pro"}}},
                ]}),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::test]
async fn the_sync_prices_command_fills_the_catalog_like_the_rpc() {
    let base = prices_fake().await;
    let (app, operator) = TestBilling::with_operator(move |config| {
        use_stripe(config, "sk_test_command", base);
    })
    .await;
    let dry = onramp_billing::sync_prices_command(app.config.clone(), true)
        .await
        .expect("dry run");
    assert!(dry.starts_with("(dry run) updated: [pro]"), "{dry}");
    let report = onramp_billing::sync_prices_command(app.config.clone(), false)
        .await
        .expect("sync");
    assert!(report.contains("updated: [pro]"), "{report}");
    let after = app.catalog(&operator).await;
    let pro = after.plans.iter().find(|p| p.code == "pro").expect("pro");
    assert_eq!(pro.stripe_price_id, "price_pro_m");
    app.stop().await;
}

#[tokio::test]
async fn the_sync_fills_stripe_ids_by_plan_code() {
    use onramp_proto::billing::v1::SyncStripePricesRequest;
    let base = prices_fake().await;
    let (app, operator) = TestBilling::with_operator(move |config| {
        use_stripe(
            config,
            &format!("sk_test_{}", Uuid::new_v4().simple()),
            base,
        );
    })
    .await;
    let before = app.catalog(&operator).await;
    let sync = |dry_run| {
        let mut client = app.client.clone();
        let caller = caller(&operator);
        async move {
            client
                .sync_stripe_prices(SyncStripePricesRequest { caller, dry_run })
                .await
                .expect("synced")
                .into_inner()
        }
    };
    let dry = sync(true).await;
    assert_eq!(dry.updated_plan_codes, ["pro"]);
    assert_eq!(dry.version, before.version);
    assert_eq!(
        app.catalog(&operator).await.plans,
        before.plans,
        "a dry run writes nothing"
    );
    let real = sync(false).await;
    assert_eq!(real.version, before.version + 1);
    let after = app.catalog(&operator).await;
    let pro = after.plans.iter().find(|p| p.code == "pro").expect("pro");
    assert_eq!(
        (pro.stripe_price_id.as_str(), pro.stripe_product_id.as_str()),
        ("price_pro_m", "prod_pro")
    );
    assert!(
        sync(false).await.updated_plan_codes.is_empty(),
        "nothing left to sync"
    );
    app.stop().await;
}
