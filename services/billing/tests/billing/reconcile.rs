//! Reconciliation against the third-party `localstripe` (installed by ./tests/run): Stripe's
//! subscriptions (trials, cancellations) are compared with the mirror, drift is reported on a dry run
//! and repaired through the webhook code path otherwise (outbox rows included).

use std::time::Duration;

use onramp_kit::testing::LocalStripe;
use onramp_proto::billing::v1::{
    DriftAction, ReconcileWithStripeRequest, ReconcileWithStripeResponse,
};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{T0, TestBilling, caller, stripe_id, subscription_event, use_stripe};

const KEY: &str = "sk_test_localstripe";

/// The localstripe calls these tests make (answers as JSON, whatever the status).
trait Calls {
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Value;
    async fn delete(&self, path: &str) -> Value;
    async fn subscription(&self, tenant: Uuid) -> Value;
}

impl Calls for LocalStripe {
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let response = self
            .request(reqwest::Method::POST, path)
            .form(form)
            .send()
            .await
            .expect("localstripe");
        response.json().await.expect("json")
    }

    async fn delete(&self, path: &str) -> Value {
        self.request(reqwest::Method::DELETE, path)
            .send()
            .await
            .expect("localstripe")
            .json()
            .await
            .expect("json")
    }

    /// A customer with a subscription (with a trial) for `tenant`; returns the subscription.
    async fn subscription(&self, tenant: Uuid) -> Value {
        let product = self.post("/v1/products", &[("name", "Pro")]).await;
        let plan_id = stripe_id("plan");
        self.post(
            "/v1/plans",
            &[
                ("id", &plan_id),
                ("product", product["id"].as_str().unwrap_or_default()),
                ("amount", "2900"),
                ("currency", "usd"),
                ("interval", "month"),
            ],
        )
        .await;
        let customer = self
            .post("/v1/customers", &[("email", "owner@example.com")])
            .await;
        let tenant = tenant.to_string();
        self.post(
            "/v1/subscriptions",
            &[
                ("customer", customer["id"].as_str().unwrap_or_default()),
                ("items[0][plan]", &plan_id),
                ("trial_period_days", "14"),
                ("metadata[tenant_id]", &tenant),
            ],
        )
        .await
    }
}

async fn reconcile(
    app: &TestBilling,
    operator: &str,
    dry_run: bool,
) -> ReconcileWithStripeResponse {
    app.client
        .clone()
        .reconcile_with_stripe(ReconcileWithStripeRequest {
            caller: caller(operator),
            dry_run,
            tenant_id: String::new(),
        })
        .await
        .expect("reconciled")
        .into_inner()
}

async fn mirrored_status(app: &TestBilling, subscription: &str) -> Option<String> {
    let sql = "select status from subscriptions where stripe_subscription_id = $1";
    app.value(sql, subscription).await
}

#[tokio::test]
async fn drift_is_reported_then_repaired_through_the_webhook_path() {
    let stripe = LocalStripe::start(KEY).await;
    let base = stripe.base.clone();
    let (app, operator) = TestBilling::with_operator(move |config| {
        use_stripe(config, KEY, base);
        config.reconcile_interval = Duration::ZERO;
    })
    .await;

    // A: the mirror believes "active" (a webhook said so), Stripe has something else.
    let tenant_a = Uuid::new_v4();
    let a = stripe.subscription(tenant_a).await;
    let a_id = a["id"].as_str().expect("sub id").to_owned();
    let a_status = a["status"].as_str().expect("status").to_owned();
    assert_ne!(
        a_status, "active",
        "localstripe starts it without a payment"
    );
    app.deliver(&subscription_event(
        &stripe_id("evt"),
        "customer.subscription.updated",
        T0,
        &a_id,
        "active",
        tenant_a,
    ))
    .await
    .expect("mirrored");
    // B: only at Stripe. C: only in the mirror.
    let tenant_b = Uuid::new_v4();
    let b_id = stripe.subscription(tenant_b).await["id"]
        .as_str()
        .expect("sub id")
        .to_owned();
    let c_id = stripe_id("sub");
    app.deliver(&subscription_event(
        &stripe_id("evt"),
        "customer.subscription.created",
        T0,
        &c_id,
        "active",
        Uuid::new_v4(),
    ))
    .await
    .expect("mirrored");

    let dry = reconcile(&app, &operator, true).await;
    let found = |report: &ReconcileWithStripeResponse, id: &str, field: &str| {
        report
            .drifts
            .iter()
            .find(|d| d.stripe_object_id == id && d.field == field)
            .map(|d| d.action())
    };
    assert_eq!(found(&dry, &a_id, "status"), Some(DriftAction::Reported));
    assert_eq!(
        found(&dry, &b_id, "missing_in_mirror"),
        Some(DriftAction::Reported)
    );
    assert_eq!(
        found(&dry, &c_id, "missing_in_stripe"),
        Some(DriftAction::Reported)
    );
    assert_eq!(
        mirrored_status(&app, &a_id).await.as_deref(),
        Some("active"),
        "a dry run changes nothing"
    );

    let run = reconcile(&app, &operator, false).await;
    assert_eq!(found(&run, &a_id, "status"), Some(DriftAction::Repaired));
    assert_eq!(
        found(&run, &b_id, "missing_in_mirror"),
        Some(DriftAction::Repaired)
    );
    assert_eq!(
        found(&run, &c_id, "missing_in_stripe"),
        Some(DriftAction::Reported),
        "never guessed at"
    );
    assert_eq!(mirrored_status(&app, &a_id).await, Some(a_status));
    assert!(mirrored_status(&app, &b_id).await.is_some());

    // A cancellation at Stripe reaches the tenant through the outbox on the next run.
    stripe.delete(&format!("/v1/subscriptions/{a_id}")).await;
    let after = reconcile(&app, &operator, false).await;
    assert_eq!(found(&after, &a_id, "status").map(|_| ()), Some(()));
    assert_eq!(
        mirrored_status(&app, &a_id).await.as_deref(),
        Some("canceled")
    );
    let sql =
        "select count(*) from outbox where tenant_id = $1 and payload->>'transition' = 'cancel'";
    let cancels: i64 = app.value(sql, tenant_a).await.unwrap_or_default();
    assert_eq!(cancels, 1);
    let again = reconcile(&app, &operator, false).await;
    assert!(
        again
            .drifts
            .iter()
            .all(|d| d.stripe_object_id != a_id && d.stripe_object_id != b_id),
        "repaired for good"
    );
    app.stop().await;
}
