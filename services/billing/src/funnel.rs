//! Billing's funnel facts as product events (`onramp_kit::product_events`), each recorded in the
//! transaction that commits the fact: plans chosen, checkouts started, trials started, payments
//! confirmed and trials converted.
//!
//! Stripe's webhooks carry no user, so the events they cause go to the tenant's billing actor: the
//! user of the tenant's latest billing event (who chose the plan or started the checkout), read from
//! billing's own `product_events` in the same transaction. A tenant nobody acted for (a subscription
//! made in Stripe's dashboard) stands for itself as `tenant:<id>`.

use onramp_kit::product_events::{ProductEvent, emit, names};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{plan::Plan, subscription::SubscriptionStatus},
    error::BillingError,
    service::checkout::Checkout,
    store::subscriptions::SubscriptionRow,
};

fn tenant_stand_in(tenant: Uuid) -> String {
    format!("tenant:{tenant}")
}

/// The caller's user id, or the tenant's stand-in when the caller is unknown (an internal call).
fn user_or_tenant(user: &str, tenant: Uuid) -> String {
    if user.is_empty() {
        tenant_stand_in(tenant)
    } else {
        user.to_owned()
    }
}

/// Who the tenant's billing events happen to (see the module's comment).
async fn actor_of(conn: &mut PgConnection, tenant: Uuid) -> sqlx::Result<String> {
    let actor: Option<String> = sqlx::query_scalar(
        "select distinct_id from product_events
         where properties->>'tenant_id' = $1 and distinct_id not like 'tenant:%'
         order by occurred_at desc, id desc limit 1",
    )
    .bind(tenant.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(actor.unwrap_or_else(|| tenant_stand_in(tenant)))
}

fn plan_event(name: &'static str, distinct_id: String, tenant: Uuid, plan: &Plan) -> ProductEvent {
    let mut event = ProductEvent::new(name, distinct_id)
        .with("tenant_id", tenant)
        .with("plan_code", plan.code.as_str());
    if let Some(id) = plan.id {
        event = event.with("plan_id", id);
    }
    event
}

/// `user` picked `plan` for `tenant` (at provisioning, or later without a card).
pub(crate) async fn plan_chosen(
    conn: &mut PgConnection,
    user: &str,
    tenant: Uuid,
    plan: &Plan,
) -> sqlx::Result<()> {
    let event = plan_event(
        names::PLAN_CHOSEN,
        user_or_tenant(user, tenant),
        tenant,
        plan,
    );
    emit(conn, &event).await.map(drop)
}

/// A trial of `plan_id` began for `tenant`: card-less (`card` false) or through Stripe.
pub(crate) async fn trial_started(
    conn: &mut PgConnection,
    tenant: Uuid,
    plan_id: Option<Uuid>,
    card: bool,
) -> sqlx::Result<()> {
    let mut event = ProductEvent::new(names::TRIAL_STARTED, actor_of(conn, tenant).await?)
        .with("tenant_id", tenant)
        .with("card", card);
    if let Some(plan) = plan_id {
        event = event.with("plan_id", plan);
    }
    emit(conn, &event).await.map(drop)
}

/// Whether a subscription in this status has not paid yet, so that becoming `active` is a payment.
fn unpaid_before(status: Option<SubscriptionStatus>) -> bool {
    use SubscriptionStatus as S;
    matches!(
        status,
        None | Some(S::Incomplete | S::IncompleteExpired | S::Trialing | S::Paused)
    )
}

/// A mirrored Stripe subscription moved `from` → `to`: a trial began, or the first payment landed
/// (and, when the tenant trialled, the trial converted). Renewals and recoveries are not funnel facts;
/// a subscription of no known tenant is no workspace's step.
pub(crate) async fn subscription_moved(
    conn: &mut PgConnection,
    row: &SubscriptionRow,
    from: Option<SubscriptionStatus>,
    to: SubscriptionStatus,
) -> sqlx::Result<()> {
    use SubscriptionStatus as S;
    let Some(tenant) = row.tenant_id else {
        return Ok(());
    };
    let subscription = &row.stripe_subscription_id;
    if to == S::Trialing && !matches!(from, Some(S::Trialing | S::Active | S::PastDue)) {
        let started = ProductEvent::new(names::TRIAL_STARTED, actor_of(conn, tenant).await?)
            .with("tenant_id", tenant)
            .with("card", true);
        return emit(conn, &with_plan(started, row).once(subscription))
            .await
            .map(drop);
    }
    if to != S::Active || !unpaid_before(from) {
        return Ok(());
    }
    let actor = actor_of(conn, tenant).await?;
    let trialled =
        from == Some(S::Trialing) || from == Some(S::Paused) || used_a_trial(conn, tenant).await?;
    let paid = ProductEvent::new(names::PAYMENT_CONFIRMED, actor.clone())
        .with("tenant_id", tenant)
        .with("after_trial", trialled);
    emit(conn, &with_plan(paid, row).once(subscription)).await?;
    if trialled {
        let converted = ProductEvent::new(names::TRIAL_CONVERTED, actor).with("tenant_id", tenant);
        emit(conn, &with_plan(converted, row).once(subscription)).await?;
    }
    Ok(())
}

fn with_plan(event: ProductEvent, row: &SubscriptionRow) -> ProductEvent {
    match row.plan_id {
        Some(plan) => event.with("plan_id", plan),
        None => event,
    }
}

/// Whether the tenant ever had a card-less trial.
async fn used_a_trial(conn: &mut PgConnection, tenant: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists(select 1 from trials_used where tenant_id = $1)")
        .bind(tenant)
        .fetch_one(&mut *conn)
        .await
}

impl Checkout {
    /// Records that `user` started a Checkout for `plan`. Its fact is Stripe's session, created by
    /// the time this runs: the event is written once Stripe said yes (a failure here fails the
    /// request; the client's retry makes a fresh session).
    pub(crate) async fn record_started(
        &self,
        user: &str,
        tenant: Uuid,
        plan: &Plan,
    ) -> Result<(), BillingError> {
        let mut tx = self.pool.begin().await?;
        let event = plan_event(
            names::CHECKOUT_STARTED,
            user_or_tenant(user, tenant),
            tenant,
            plan,
        );
        emit(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(())
    }
}
