//! Limits and usage: GetLimit/CheckEntitlement from the tenant's plan, and usage changes idempotent by
//! the caller's operation id (retries and concurrent duplicates count once).

use onramp_kit::{ApiError, Code};
use onramp_proto::billing::v1::{
    CheckEntitlementRequest, EnsureEntitlementRequest, EntitlementDenial, GetLimitRequest,
    RecordUsageRequest, RecordUsageResponse, limit_value::Value,
};
use uuid::Uuid;

use crate::helpers::TestBilling;

async fn on_plan(app: &TestBilling, plan: &str) -> Uuid {
    let tenant = Uuid::new_v4();
    app.client
        .clone()
        .ensure_entitlement(EnsureEntitlementRequest {
            tenant_id: tenant.to_string(),
            plan_id: plan.to_owned(),
            owner_user_id: String::new(),
        })
        .await
        .expect("entitled");
    tenant
}

async fn limit(
    app: &TestBilling,
    tenant: Uuid,
    field: &str,
) -> Result<Option<Value>, tonic::Status> {
    Ok(app
        .client
        .clone()
        .get_limit(GetLimitRequest {
            tenant_id: tenant.to_string(),
            field: field.to_owned(),
        })
        .await?
        .into_inner()
        .limit
        .and_then(|l| l.value))
}

async fn record(
    app: &TestBilling,
    tenant: Uuid,
    delta: i64,
    op: &str,
    enforce: bool,
) -> Result<RecordUsageResponse, tonic::Status> {
    app.client
        .clone()
        .record_usage(RecordUsageRequest {
            tenant_id: tenant.to_string(),
            field: "projects".to_owned(),
            delta,
            operation_id: op.to_owned(),
            enforce_limit: enforce,
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn check(app: &TestBilling, tenant: Uuid, feature: &str) -> EntitlementDenial {
    app.client
        .clone()
        .check_entitlement(CheckEntitlementRequest {
            tenant_id: tenant.to_string(),
            feature: feature.to_owned(),
        })
        .await
        .expect("checked")
        .into_inner()
        .denial()
}

#[tokio::test]
async fn limits_come_from_the_tenants_plan() {
    let app = TestBilling::spawn().await;
    let free = on_plan(&app, "free").await;
    assert_eq!(
        limit(&app, free, "seats").await.expect("seats"),
        Some(Value::Max(3))
    );
    assert_eq!(
        limit(&app, free, "api_access").await.expect("flag"),
        Some(Value::Enabled(false))
    );
    let pro = on_plan(&app, "pro").await;
    assert!(matches!(
        limit(&app, pro, "projects").await.expect("projects"),
        Some(Value::Unlimited(_))
    ));
    let nobody = Uuid::new_v4();
    assert_eq!(
        limit(&app, nobody, "seats").await.expect("none"),
        Some(Value::Max(0))
    );
    let unknown = limit(&app, free, "rockets")
        .await
        .expect_err("unknown field");
    assert_eq!(ApiError::from_status(&unknown).code, Code::NotFound);

    assert_eq!(
        check(&app, free, "api_access").await,
        EntitlementDenial::NotInPlan
    );
    assert_eq!(
        check(&app, pro, "api_access").await,
        EntitlementDenial::None
    );
    assert_eq!(
        check(&app, nobody, "api_access").await,
        EntitlementDenial::NoActivePlan
    );
    assert_eq!(check(&app, free, "projects").await, EntitlementDenial::None);
    record(&app, free, 1, "projects:create:1", false)
        .await
        .expect("one project");
    assert_eq!(
        check(&app, free, "projects").await,
        EntitlementDenial::LimitReached
    );
    app.stop().await;
}

#[tokio::test]
async fn usage_changes_are_idempotent_under_retry_and_concurrency() {
    let app = TestBilling::spawn().await;
    let tenant = on_plan(&app, "pro").await;
    let first = record(&app, tenant, 1, "projects:create:a", false)
        .await
        .expect("first");
    assert_eq!((first.used, first.duplicate), (1, false));
    for _ in 0..2 {
        let retry = record(&app, tenant, 1, "projects:create:a", false)
            .await
            .expect("retry");
        assert_eq!((retry.used, retry.duplicate), (1, true));
    }
    let concurrent = (0..6).map(|_| record(&app, tenant, 1, "projects:create:b", false));
    let mut fresh = 0;
    for response in futures::future::join_all(concurrent).await {
        let response = response.expect("recorded");
        fresh += usize::from(!response.duplicate);
        assert_eq!(response.used, 2);
    }
    assert_eq!(fresh, 1, "one of the concurrent duplicates counted");

    let reused = record(&app, tenant, -1, "projects:create:a", false)
        .await
        .expect_err("other delta");
    assert_eq!(
        ApiError::from_status(&reused).field.as_deref(),
        Some("operation_id")
    );
    let down = record(&app, tenant, -5, "projects:purge", false)
        .await
        .expect("clamped");
    assert_eq!(down.used, 0, "usage never goes below 0");
    app.stop().await;
}

#[tokio::test]
async fn enforced_limits_refuse_and_record_nothing() {
    let app = TestBilling::spawn().await;
    let tenant = on_plan(&app, "free").await;
    record(&app, tenant, 1, "p1", true)
        .await
        .expect("within the limit");
    let refused = record(&app, tenant, 1, "p2", true)
        .await
        .expect_err("past the limit");
    assert_eq!(ApiError::from_status(&refused).code, Code::LimitExceeded);
    let after = record(&app, tenant, 1, "p2", false)
        .await
        .expect("same op, not enforced");
    assert_eq!(
        (after.used, after.duplicate),
        (2, false),
        "the refused attempt kept nothing"
    );
    let seats = app
        .client
        .clone()
        .record_usage(RecordUsageRequest {
            tenant_id: tenant.to_string(),
            field: "seats".to_owned(),
            delta: 1,
            operation_id: "s1".to_owned(),
            enforce_limit: false,
        })
        .await
        .expect_err("seats are computed");
    assert_eq!(
        ApiError::from_status(&seats).field.as_deref(),
        Some("field")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_catalog_change_is_seen_by_the_next_limit_read() {
    let (app, operator) = TestBilling::with_operator(|_| {}).await;
    let tenant = on_plan(&app, "free").await;
    assert_eq!(
        limit(&app, tenant, "seats").await.expect("seats"),
        Some(Value::Max(3))
    );
    let mut catalog = app.catalog(&operator).await;
    for limit in &mut catalog.plans[0].limits {
        if limit.field == "seats" {
            limit.value = Some(onramp_proto::billing::v1::LimitValue {
                value: Some(Value::Max(5)),
            });
        }
    }
    app.put_catalog(&operator, catalog.version, catalog.plans)
        .await
        .expect("written");
    assert_eq!(
        limit(&app, tenant, "seats").await.expect("seats"),
        Some(Value::Max(5))
    );
    app.stop().await;
}
