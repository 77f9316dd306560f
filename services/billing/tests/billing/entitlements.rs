//! Entitlements without a card: the manual provider activates free, trial and complimentary plans at
//! once (emitting the same outbox events as Stripe would), and the stripe provider waits for payment.

use onramp_kit::{ApiError, Code};
use onramp_proto::billing::v1::{
    EnsureEntitlementRequest, EntitlementSource, EntitlementState, GetSubscriptionSummaryRequest,
    GrantComplimentaryRequest, GrantComplimentaryResponse, StartPlanWithoutCardRequest,
};
use uuid::Uuid;

use crate::helpers::{TestBilling, assert_invalid, caller, eventually, use_stripe};

async fn ensure(
    app: &TestBilling,
    tenant: Uuid,
    plan: &str,
) -> Result<(EntitlementState, EntitlementSource, bool, i64), tonic::Status> {
    let response = app
        .client
        .clone()
        .ensure_entitlement(EnsureEntitlementRequest {
            tenant_id: tenant.to_string(),
            plan_id: plan.to_owned(),
            owner_user_id: Uuid::new_v4().to_string(),
        })
        .await?
        .into_inner();
    let entitlement = response.entitlement.expect("set");
    Ok((
        entitlement.state(),
        entitlement.source(),
        response.payment_required,
        entitlement.version,
    ))
}

async fn activations(app: &TestBilling, tenant: Uuid) -> i64 {
    let sql =
        "select count(*) from outbox where tenant_id = $1 and payload->>'transition' = 'activate'";
    app.value(sql, tenant).await.unwrap_or_default()
}

#[tokio::test]
async fn the_manual_provider_starts_free_and_trial_plans_at_once_and_idempotently() {
    let app = TestBilling::spawn().await;
    let free = Uuid::new_v4();
    assert_eq!(
        ensure(&app, free, "free").await.expect("free"),
        (
            EntitlementState::Active,
            EntitlementSource::FreePlan,
            false,
            1
        )
    );
    assert_eq!(
        ensure(&app, free, "free").await.expect("again"),
        (
            EntitlementState::Active,
            EntitlementSource::FreePlan,
            false,
            1
        ),
        "idempotent on the tenant"
    );
    assert_eq!(activations(&app, free).await, 1);

    let trial = Uuid::new_v4();
    let (state, source, payment, _) = ensure(&app, trial, "pro").await.expect("trial");
    assert_eq!(
        (state, source, payment),
        (
            EntitlementState::Active,
            EntitlementSource::TrialWithoutCard,
            false
        )
    );
    let days: f64 = sqlx::query_scalar(
        "select extract(epoch from trial_ends_at - now())::float8 / 86400 from entitlements where tenant_id = $1")
        .bind(trial).fetch_one(&app.db).await.expect("trial end");
    assert!((13.9..=14.0).contains(&days), "14-day trial, got {days}");
    assert_eq!(activations(&app, trial).await, 1);

    let none = Uuid::new_v4();
    assert_eq!(
        ensure(&app, none, "").await.expect("no hint").0,
        EntitlementState::None
    );
    let unknown = ensure(&app, Uuid::new_v4(), "platinum")
        .await
        .expect_err("unknown plan");
    assert_invalid(&unknown, "plan_id");
    app.stop().await;
}

/// `by` grants the `pro` plan to `tenant` for free.
async fn grant(
    app: &TestBilling,
    by: &str,
    tenant: Uuid,
    ends_at: Option<prost_types::Timestamp>,
    reason: &str,
) -> Result<tonic::Response<GrantComplimentaryResponse>, tonic::Status> {
    app.client
        .clone()
        .grant_complimentary(GrantComplimentaryRequest {
            caller: caller(by),
            tenant_id: tenant.to_string(),
            plan_id: "pro".to_owned(),
            ends_at,
            reason: reason.to_owned(),
        })
        .await
}

#[tokio::test]
async fn the_manual_provider_grants_a_complimentary_plan_with_no_stripe_at_all() {
    let (app, operator) = TestBilling::with_operator(move |config| {
        config.stripe_webhook_secrets.clear();
    })
    .await;
    let tenant = Uuid::new_v4();
    let granted = grant(&app, &operator, tenant, None, "design partner")
        .await
        .expect("granted")
        .into_inner()
        .entitlement
        .expect("set");
    assert_eq!(
        (granted.state(), granted.source()),
        (EntitlementState::Active, EntitlementSource::Complimentary)
    );
    assert_eq!(activations(&app, tenant).await, 1);
    assert_eq!(
        app.count(
            "select count(*) from audit_log where action = 'entitlement.grant_complimentary'"
        )
        .await,
        1
    );

    let stranger = Uuid::new_v4().to_string();
    let denied = grant(&app, &stranger, tenant, None, "me")
        .await
        .expect_err("not an operator");
    assert_eq!(ApiError::from_status(&denied).code, Code::PermissionDenied);
    let long_ago = prost_types::Timestamp {
        seconds: 1_000,
        nanos: 0,
    };
    let past = grant(&app, &operator, tenant, Some(long_ago), "late")
        .await
        .expect_err("ends in the past");
    assert_eq!(
        ApiError::from_status(&past).field.as_deref(),
        Some("ends_at")
    );
    app.stop().await;
}

#[tokio::test]
async fn with_stripe_a_card_plan_waits_for_payment_without_telling_tenancy() {
    let (app, operator) = TestBilling::with_operator(move |config| {
        use_stripe(
            config,
            &format!("sk_test_{}", Uuid::new_v4().simple()),
            "http://127.0.0.1:9".to_owned(),
        );
    })
    .await;
    let mut catalog = app.catalog(&operator).await;
    catalog.plans[1].trial_requires_card = true;
    app.put_catalog(&operator, catalog.version, catalog.plans)
        .await
        .expect("card trial");
    let tenant = Uuid::new_v4();
    let (state, _, payment_required, _) = ensure(&app, tenant, "pro").await.expect("pending");
    assert_eq!(
        (state, payment_required),
        (EntitlementState::PendingPayment, true)
    );
    assert_eq!(
        app.count("select count(*) from outbox").await,
        0,
        "pending is not a lifecycle change"
    );
    app.stop().await;
}

#[tokio::test]
async fn tenant_scoped_calls_need_a_caller_and_a_reachable_tenancy() {
    let app = TestBilling::with_unreachable_tenancy().await;
    let tenant = Uuid::new_v4().to_string();
    let anonymous = app
        .client
        .clone()
        .get_subscription_summary(GetSubscriptionSummaryRequest {
            caller: None,
            tenant_id: tenant.clone(),
        })
        .await
        .expect_err("anonymous");
    assert_eq!(
        ApiError::from_status(&anonymous).code,
        Code::Unauthenticated
    );
    // Tenancy cannot be reached: membership cannot be checked, nothing is started.
    let unchecked = app
        .client
        .clone()
        .start_plan_without_card(StartPlanWithoutCardRequest {
            caller: caller(&Uuid::new_v4().to_string()),
            tenant_id: tenant,
            plan_id: "free".to_owned(),
        })
        .await
        .expect_err("membership unknown");
    assert_eq!(ApiError::from_status(&unchecked).code, Code::Unavailable);
    assert_eq!(app.count("select count(*) from entitlements").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn an_ended_card_less_trial_suspends_the_tenant_through_the_outbox() {
    let app = TestBilling::spawn_with(|config| {
        config.expiry_sweep_interval = std::time::Duration::from_millis(50);
    })
    .await;
    let tenant = Uuid::new_v4();
    ensure(&app, tenant, "pro").await.expect("trial");
    let running = Uuid::new_v4();
    ensure(&app, running, "pro").await.expect("trial");
    sqlx::query(
        "update entitlements set trial_ends_at = now() - interval '1 minute' where tenant_id = $1",
    )
    .bind(tenant)
    .execute(&app.db)
    .await
    .expect("the trial ends");
    eventually("the trial is closed", || async {
        app.count(&format!(
            "select count(*) from outbox where tenant_id = '{tenant}' and payload->>'transition' = 'suspend'"
        ))
        .await
            == 1
    })
    .await;
    let states: Vec<(Uuid, String)> =
        sqlx::query_as("select tenant_id, state from entitlements order by state")
            .fetch_all(&app.db)
            .await
            .expect("states");
    assert!(states.contains(&(tenant, "suspended".to_owned())));
    assert!(
        states.contains(&(running, "active".to_owned())),
        "a running trial is left alone"
    );
    app.stop().await;
}
