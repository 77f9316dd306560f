//! The lifecycle driven by billing's events (through ApplyBillingEvent), the payment gate, and the
//! client's readiness policy reaching `ready` once the activation lands.

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use onramp_kit::Code;
use onramp_proto::tenancy::v1::{
    self as pb, BillingEventOutcome as Outcome, LifecycleTransition as T, TenantGate, TenantState,
};
use onramp_tenant_provisioning::client::{Readiness, ReadinessPolicy, grpc_status};
use uuid::Uuid;

use crate::helpers::{TestTenancy, assert_error, caller, new_user, tenant_id};

fn event(tenant: &str, transition: T, version: i64) -> pb::ApplyBillingEventRequest {
    pb::ApplyBillingEventRequest {
        event_id: Uuid::new_v4().to_string(),
        tenant_id: tenant.to_owned(),
        transition: transition.into(),
        billing_version: version,
        occurred_at: None,
        plan_id: String::new(),
        stripe_event_id: "evt_test".to_owned(),
        reason: "test".to_owned(),
    }
}

async fn apply(
    app: &TestTenancy,
    request: pb::ApplyBillingEventRequest,
) -> pb::ApplyBillingEventResponse {
    app.client
        .clone()
        .apply_billing_event(request)
        .await
        .expect("applied")
        .into_inner()
}

async fn state_of(app: &TestTenancy, tenant: &str) -> String {
    sqlx::query_scalar("select state from tenants where id = $1::uuid")
        .bind(tenant)
        .fetch_one(&app.db)
        .await
        .expect("state")
}

#[tokio::test]
async fn a_pending_tenant_answers_payment_pending_until_billing_activates_it_and_the_client_sees_ready()
 {
    let app = TestTenancy::spawn(|config| {
        config.standalone_initial_state =
            onramp_tenant_provisioning::StandaloneState::PendingPayment;
        config.payment_retry_after = Duration::from_secs(1);
    })
    .await;
    let owner = new_user();
    let made = app.provision(&owner, "Waiting Room").await;
    let tenant = tenant_id(&made);
    let mut client = app.client.clone();

    let gated = client
        .get_starter_data(pb::GetStarterDataRequest {
            caller: caller(&owner),
            tenant_id: tenant.clone(),
        })
        .await;
    let error = assert_error(gated, Code::PaymentPending, None);
    assert_eq!(
        (error.code.http_status(), error.retry_after),
        (402, Some(Duration::from_secs(1)))
    );
    let status = client
        .get_tenant_status(pb::GetTenantStatusRequest {
            caller: caller(&owner),
            tenant_id: tenant.clone(),
        })
        .await
        .expect("status")
        .into_inner()
        .status
        .expect("status");
    assert_eq!(
        (status.ready, status.gate(), status.retry_after_seconds),
        (false, TenantGate::PaymentPending, 1)
    );

    // The client polls while billing's activation arrives (after the client saw "pending" once).
    let polls = AtomicU32::new(0);
    let caller_of_owner = caller(&owner).expect("caller");
    let started = Instant::now();
    let policy = ReadinessPolicy::default();
    // Counted when a poll has come back "pending", not when it starts: otherwise the activation
    // could overtake the first poll, which would then already see the tenant ready.
    let poll = policy.wait_until_ready(|| {
        let mut client = client.clone();
        let caller = caller_of_owner.clone();
        let tenant = tenant.clone();
        let polls = &polls;
        async move {
            let observation = grpc_status(&mut client, &caller, &tenant).await;
            if observation.as_ref().is_ok_and(|seen| !seen.ready) {
                polls.fetch_add(1, Ordering::SeqCst);
            }
            observation
        }
    });
    let activate = async {
        while polls.load(Ordering::SeqCst) == 0 {
            assert!(started.elapsed() < Duration::from_secs(5));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        apply(&app, event(&tenant, T::Activate, 1)).await
    };
    let (readiness, applied) = tokio::join!(poll, activate);
    assert_eq!(applied.outcome(), Outcome::Applied);
    assert!(
        matches!(readiness, Readiness::Ready { polls } if polls >= 2),
        "{readiness:?}"
    );
    assert!(started.elapsed() < policy.window);

    let starter = client
        .get_starter_data(pb::GetStarterDataRequest {
            caller: caller(&owner),
            tenant_id: tenant.clone(),
        })
        .await
        .expect("usable now");
    assert_eq!(starter.into_inner().items.len(), 4);
    app.stop().await;
}

#[tokio::test]
async fn the_readiness_policy_ends_pending_when_nothing_activates_the_tenant() {
    let app = TestTenancy::spawn(|config| {
        config.standalone_initial_state =
            onramp_tenant_provisioning::StandaloneState::PendingPayment;
        config.payment_retry_after = Duration::from_secs(1);
    })
    .await;
    let (owner, tenant) = app.owned("Never Paid").await;
    let policy = ReadinessPolicy {
        window: Duration::from_secs(2),
        ..ReadinessPolicy::default()
    };
    let caller = caller(&owner).expect("caller");
    let readiness = policy
        .wait_until_ready(|| {
            let mut client = app.client.clone();
            let caller = caller.clone();
            let tenant = tenant.clone();
            async move { grpc_status(&mut client, &caller, &tenant).await }
        })
        .await;
    assert!(
        matches!(readiness, Readiness::Pending { .. }),
        "{readiness:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn duplicate_events_change_nothing_and_stale_events_are_ignored() {
    let app = TestTenancy::pending().await;
    let tenant = tenant_id(&app.provision(&new_user(), "Events").await);
    let activation = event(&tenant, T::Activate, 1);
    assert_eq!(
        apply(&app, activation.clone()).await.outcome(),
        Outcome::Applied
    );
    let past_due = apply(&app, event(&tenant, T::MarkPastDue, 2)).await;
    assert_eq!(
        (
            past_due.outcome(),
            past_due.previous_state(),
            past_due.state()
        ),
        (Outcome::Applied, TenantState::Active, TenantState::PastDue)
    );

    // The activation is delivered again: nothing changes (it must not undo past_due).
    let again = apply(&app, activation).await;
    assert_eq!(
        (again.outcome(), again.state()),
        (Outcome::Duplicate, TenantState::PastDue)
    );
    assert_eq!(state_of(&app, &tenant).await, "past_due");
    assert_eq!(app.count("select count(*) from billing_events").await, 2);

    // An older version arriving late is recorded as stale and changes nothing.
    let stale = apply(&app, event(&tenant, T::Activate, 1)).await;
    assert_eq!(
        (stale.outcome(), stale.state()),
        (Outcome::Stale, TenantState::PastDue)
    );
    let same = apply(&app, event(&tenant, T::MarkPastDue, 3)).await;
    assert_eq!(same.outcome(), Outcome::NoChange);
    assert_eq!(state_of(&app, &tenant).await, "past_due");
    app.stop().await;
}

#[tokio::test]
async fn illegal_transitions_are_refused_and_change_nothing() {
    let app = TestTenancy::pending().await;
    let tenant = tenant_id(&app.provision(&new_user(), "Strict").await);
    let mut client = app.client.clone();
    for transition in [T::MarkPastDue, T::Suspend] {
        assert_error(
            client
                .apply_billing_event(event(&tenant, transition, 1))
                .await,
            Code::Conflict,
            None,
        );
    }
    assert_eq!(state_of(&app, &tenant).await, "pending_payment");
    assert_eq!(
        apply(&app, event(&tenant, T::Cancel, 2)).await.state(),
        TenantState::Canceled
    );
    assert_error(
        client
            .apply_billing_event(event(&tenant, T::Suspend, 3))
            .await,
        Code::Conflict,
        None,
    );
    assert_eq!(state_of(&app, &tenant).await, "canceled");
    assert_eq!(
        apply(&app, event(&tenant, T::Activate, 4)).await.state(),
        TenantState::Active
    );

    assert_error(
        client
            .apply_billing_event(event(&Uuid::new_v4().to_string(), T::Activate, 1))
            .await,
        Code::NotFound,
        None,
    );
    assert_error(
        client
            .apply_billing_event(event(&tenant, T::Unspecified, 5))
            .await,
        Code::InvalidArgument,
        Some("transition"),
    );
    assert_error(
        client
            .apply_billing_event(pb::ApplyBillingEventRequest {
                event_id: "x".into(),
                ..event(&tenant, T::Activate, 5)
            })
            .await,
        Code::InvalidArgument,
        Some("event_id"),
    );
    app.stop().await;
}

#[tokio::test]
async fn check_membership_enforces_the_gate_only_when_asked() {
    let app = TestTenancy::pending().await;
    let (owner, tenant) = app.owned("Gated").await;
    let mut client = app.client.clone();
    let check = |require_usable, user: &str| pb::CheckMembershipRequest {
        tenant_id: tenant.clone(),
        user_id: user.to_owned(),
        minimum_role: pb::Role::Unspecified.into(),
        require_usable,
    };
    let open = client
        .check_membership(check(false, &owner))
        .await
        .expect("open")
        .into_inner();
    assert_eq!(
        open.status.expect("status").gate(),
        TenantGate::PaymentPending
    );
    assert_error(
        client.check_membership(check(true, &owner)).await,
        Code::PaymentPending,
        None,
    );
    assert_error(
        client.check_membership(check(false, &new_user())).await,
        Code::NotFound,
        None,
    );
    apply(&app, event(&tenant, T::Activate, 1)).await;
    apply(&app, event(&tenant, T::Suspend, 2)).await;
    assert_error(
        client.check_membership(check(true, &owner)).await,
        Code::PermissionDenied,
        None,
    );
    app.stop().await;
}
