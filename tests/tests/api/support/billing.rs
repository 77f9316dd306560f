//! Shared set-up for the billing journeys over HTTP: a [`TestStack`] whose billing runs the `stripe`
//! provider against a [`StripeFake`] (or the `manual` provider), an operator who edits the catalog
//! through billing's own RPC, and helpers for workspaces and their status.

use std::time::Duration;

use onramp_kit::config::SecretString;
use onramp_proto::{
    billing::v1::{
        self as pb, GetPlanCatalogRequest, PutPlanCatalogRequest,
        billing_service_client::BillingServiceClient, limit_value::Value as Limit,
    },
    common::v1::{Caller, Money},
};
use onramp_stack::StackOptions;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    TestStack, User,
    poll::eventually,
    stripe::{STRIPE_KEY, StripeFake},
};

/// The operator billing is configured to trust for catalog writes (operators are configured by user
/// id; this one never signs in, it calls billing's admin RPC directly).
pub(crate) const OPERATOR: &str = "0190e2e0-0000-7000-8000-00000000a11c";

/// How long a test waits for an effect that crosses the outbox relay.
const RELAY_WAIT: Duration = Duration::from_secs(20);

/// Billing as the tests run it: the operator trusted for catalog writes, a fast outbox relay,
/// reconciliation asking about orphans at once, and the `stripe` provider against `stripe_base` (a
/// [`StripeFake`]'s) or, with none, the `manual` provider.
pub(crate) fn billing_on(options: &mut StackOptions, stripe_base: Option<String>) {
    options.billing(move |config| {
        config.billing_operator_user_ids = vec![OPERATOR.to_owned()];
        config.outbox_poll_interval = Duration::from_millis(50);
        config.outbox_max_backoff = Duration::from_secs(1);
        // Tests ask reconciliation about orphans right away.
        config.reconcile_orphan_grace = Duration::ZERO;
        match &stripe_base {
            Some(base) => {
                config.billing_provider = Some(onramp_billing::ProviderKind::Stripe);
                config.stripe_secret_key = Some(SecretString::from(STRIPE_KEY.to_owned()));
                config.stripe_api_base = base.clone();
            }
            None => {
                config.billing_provider = Some(onramp_billing::ProviderKind::Manual);
                config.stripe_secret_key = None;
            }
        }
    });
}

/// A stack whose billing runs `stripe` against `fake` and verifies webhooks signed with `secret`.
pub(crate) async fn stripe_world(fake: &StripeFake, secret: &str) -> TestStack {
    let base = fake.base.clone();
    let secrets = vec![SecretString::from(secret.to_owned())];
    TestStack::with_mail_and(move |options| {
        billing_on(options, Some(base));
        options.billing_webhook_secrets = secrets;
    })
    .await
}

/// A stack whose billing runs the `manual` provider: no Stripe at all.
pub(crate) async fn manual_world() -> TestStack {
    TestStack::with_mail_and(|options| billing_on(options, None)).await
}

/// Billing's gRPC API, directly.
pub(crate) async fn billing_rpc(
    world: &TestStack,
) -> BillingServiceClient<tonic::transport::Channel> {
    BillingServiceClient::connect(world.service_url("billing"))
        .await
        .expect("connect to billing")
}

fn operator() -> Option<Caller> {
    Some(Caller {
        user_id: OPERATOR.to_owned(),
        ..Caller::default()
    })
}

/// Adds `plan` to the catalog (read the version, write the catalog back with it); returns its id.
pub(crate) async fn add_plan(world: &TestStack, plan: pb::Plan) -> String {
    let mut billing = billing_rpc(world).await;
    let mut catalog = billing
        .get_plan_catalog(GetPlanCatalogRequest { caller: operator() })
        .await
        .expect("catalog")
        .into_inner();
    let code = plan.code.clone();
    catalog.plans.push(plan);
    let written = billing
        .put_plan_catalog(PutPlanCatalogRequest {
            caller: operator(),
            expected_version: catalog.version,
            plans: catalog.plans,
        })
        .await
        .expect("catalog written")
        .into_inner();
    written
        .plans
        .into_iter()
        .find(|plan| plan.code == code)
        .map(|plan| plan.id)
        .expect("the new plan")
}

fn max(field: &str, max: i64) -> pb::PlanLimit {
    pb::PlanLimit {
        field: field.to_owned(),
        value: Some(pb::LimitValue {
            value: Some(Limit::Max(max)),
        }),
        display_name: field.to_owned(),
    }
}

/// A monthly per-seat paid plan sold at `price_id`, without a card-less trial (so a tenant on it
/// waits for payment), up to `max_seats` seats and 3 projects.
pub(crate) fn paid_plan(code: &str, price_id: &str, max_seats: i64) -> pb::Plan {
    pb::Plan {
        code: code.to_owned(),
        name: format!("Plan {code}"),
        kind: pb::PlanKind::Paid as i32,
        price: Some(Money {
            amount_minor: 4900,
            currency: "usd".to_owned(),
        }),
        interval: pb::BillingInterval::Month as i32,
        per_seat: true,
        trial_requires_card: true,
        public: true,
        sort_order: 30,
        stripe_price_id: price_id.to_owned(),
        limits: vec![max("seats", max_seats), max("projects", 3)],
        ..pb::Plan::default()
    }
}

/// A complimentary plan (operators' enterprise deals), not public.
pub(crate) fn complimentary_plan(code: &str) -> pb::Plan {
    pb::Plan {
        code: code.to_owned(),
        name: format!("Plan {code}"),
        kind: pb::PlanKind::Complimentary as i32,
        price: Some(Money {
            amount_minor: 0,
            currency: "usd".to_owned(),
        }),
        sort_order: 40,
        limits: vec![max("seats", 100), max("projects", 100)],
        ..pb::Plan::default()
    }
}

/// `POST /v1/tenants` on `plan` (code or id; empty: none) with a fresh Idempotency-Key; the
/// provisioned body.
pub(crate) async fn provision(world: &TestStack, owner: &User, name: &str, plan: &str) -> Value {
    let response = world
        .authed(Method::POST, "/v1/tenants", &owner.access_token)
        .header("idempotency-key", Uuid::new_v4().to_string())
        .json(&json!({ "name": name, "plan_id": plan }))
        .send()
        .await
        .expect("provision");
    assert_eq!(response.status(), StatusCode::CREATED, "provision");
    response.json().await.expect("provisioned json")
}

/// `GET /v1/tenants/{id}/status` as `user`.
pub(crate) async fn tenant_status(world: &TestStack, user: &User, tenant_id: &str) -> Value {
    let response = world
        .authed(
            Method::GET,
            &format!("/v1/tenants/{tenant_id}/status"),
            &user.access_token,
        )
        .send()
        .await
        .expect("status");
    assert_eq!(response.status(), StatusCode::OK, "status");
    response.json().await.expect("status json")
}

/// Polls the status (as a browser would) until the tenant is in `state`.
pub(crate) async fn wait_for_state(world: &TestStack, user: &User, tenant_id: &str, state: &str) {
    eventually(RELAY_WAIT, async || {
        let status = tenant_status(world, user, tenant_id).await;
        (status["state"] == state)
            .then_some(())
            .ok_or(format!("the tenant never became {state}: {status}"))
    })
    .await;
}

/// `GET /v1/billing/subscription` of `tenant` as `user`: the status and the summary.
pub(crate) async fn subscription(
    world: &TestStack,
    user: &User,
    tenant: &str,
) -> (StatusCode, Value) {
    let path = format!("/v1/billing/subscription?tenant_id={tenant}");
    world.get_as(user, &path).await
}

/// Asserts that `answer[field]` is a URL under `prefix` (Stripe's hosted pages).
pub(crate) fn assert_url_under(answer: &Value, field: &str, prefix: &str) {
    assert!(
        answer[field]
            .as_str()
            .is_some_and(|url| url.starts_with(prefix)),
        "{field}: {answer}"
    );
}
