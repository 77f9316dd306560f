//! Journey (1) in a real Chromium: the paid plan through Stripe Checkout. The Stripe fake creates
//! the Checkout session; the browser's visit to its page is intercepted by the script, and "the
//! buyer pays" is a control route here that completes the session at the fake and sends Stripe's
//! signed webhooks to the gateway, while the app's payment-pending screen polls.

use std::sync::Arc;

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use onramp_kit::config::SecretString;
use serde_json::{Value, json};

use crate::support::{
    billing::{OPERATOR, add_plan, paid_plan},
    stripe::{LocalStripeCalls as _, STRIPE_KEY, StripeFake, Webhooks, event, new_webhook_secret},
    web::{browser_world, run_journey_with},
};

struct Stripe {
    fake: StripeFake,
    hooks: Webhooks,
}

/// `POST /complete-checkout`: the newest Checkout session is paid and its webhooks delivered.
async fn complete_checkout(State(stripe): State<Arc<Stripe>>) -> (StatusCode, Json<Value>) {
    let Some(session) = stripe.fake.sessions().pop() else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no checkout" })),
        );
    };
    let paid = stripe.fake.complete_checkout(&session).await;
    let t0 = chrono::Utc::now().timestamp() - 60;
    for (kind, at, object) in [
        ("checkout.session.completed", t0, &paid.session),
        ("customer.subscription.updated", t0 + 1, &paid.subscription),
        ("invoice.paid", t0 + 2, &paid.invoice),
    ] {
        stripe
            .hooks
            .expect(&event(kind, at, object), "applied")
            .await;
    }
    (
        StatusCode::OK,
        Json(json!({ "session": session.id, "seats": session.field("line_items[0][quantity]") })),
    )
}

/// Sign up → verify → workspace → a paid plan with 2 seats → Checkout → payment pending → active
/// without a reload → checklist → invite → the teammate joins → members and seats show 2.
#[tokio::test]
async fn paid_journey_through_checkout_in_a_browser() {
    let fake = StripeFake::start().await;
    let secret = new_webhook_secret();
    let stripe_base = fake.base.clone();
    let secrets = vec![SecretString::from(secret.clone())];
    let (world, base) = browser_world(move |options| {
        options.billing_webhook_secrets = secrets;
        options.billing(move |config: &mut onramp_billing::Config| {
            config.billing_operator_user_ids = vec![OPERATOR.to_owned()];
            config.billing_provider = Some(onramp_billing::ProviderKind::Stripe);
            config.stripe_secret_key = Some(SecretString::from(STRIPE_KEY.to_owned()));
            config.stripe_api_base = stripe_base.clone();
        });
    })
    .await;
    let price = fake.localstripe.create_price(4900).await;
    add_plan(&world, paid_plan("team", &price, 5)).await;
    let hooks = Webhooks::new(world.url("/v1/webhooks/stripe"), &secret);
    let stripe = Arc::new(Stripe { fake, hooks });
    let control = Router::new()
        .route("/complete-checkout", post(complete_checkout))
        .with_state(stripe);
    run_journey_with(world, &base, "paid.test.mjs", control).await;
}
