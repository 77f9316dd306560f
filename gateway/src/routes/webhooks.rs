//! `POST /v1/webhooks/stripe` (and `/v1/webhooks/stripe/connect`): Stripe deliveries, passed to
//! billing byte for byte with their `Stripe-Signature`. Billing verifies, stores and applies; the edge
//! only turns the outcome into the status Stripe acts on (2xx: done; anything else: Stripe retries).

use axum::{Json, body::Bytes};
use http::HeaderMap;
use onramp_proto::billing::v1::{HandleStripeWebhookRequest, StripeEventOutcome};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{middleware::header_str, problem::Problem, routes::call::Caller};

/// Headers never forwarded into the stored delivery (credentials) or forwarded separately.
const NOT_KEPT: [&str; 3] = ["authorization", "cookie", "stripe-signature"];

/// The acknowledgement body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookAck)]
pub(crate) struct Ack {
    received: bool,
    event_id: String,
    /// `applied`, `duplicate`, `ignored`, `stale` or `unknown`.
    outcome: &'static str,
}

/// The two delivery routes differ only in what they document and the `connect` flag billing gets.
macro_rules! webhook {
    ($(#[$doc:meta])* $name:ident, $path:tt, $operation:tt, $event:tt, $unset:tt, $connect:tt) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "webhooks", operation_id = $operation,
            params(("Stripe-Signature" = String, Header, description = "Stripe's `t=…,v1=…` signature over the raw body")),
            request_body(content = String, content_type = "application/json", description = $event),
            responses(
                (status = 200, description = "Stored and applied (or a duplicate: nothing changed)", body = Ack),
                (status = 400, description = "The signature did not verify, or the body is not a Stripe event"),
                (status = 403, description = $unset),
                (status = 500, description = "Applying failed and was rolled back; Stripe retries"),
            ))]
        pub(crate) async fn $name(c: Caller, headers: HeaderMap, body: Bytes) -> Result<Json<Ack>, Problem> {
            ingest(c, headers, body, $connect).await
        }
    };
}

webhook!(
    /// Stripe's account events (checkout, subscriptions, invoices).
    account, "/v1/webhooks/stripe", "stripe_webhook", "A Stripe event, byte for byte",
    "Webhooks are not configured (no signing secret)", false
);
webhook!(
    /// Stripe's Connect events (connected accounts).
    connect, "/v1/webhooks/stripe/connect", "stripe_connect_webhook",
    "A Stripe Connect event, byte for byte",
    "Connect webhooks are not configured (no signing secret)", true
);

async fn ingest(
    c: Caller,
    headers: HeaderMap,
    body: Bytes,
    connect: bool,
) -> Result<Json<Ack>, Problem> {
    let signature = header_str(&headers, "stripe-signature")
        .unwrap_or_default()
        .to_owned();
    let kept = headers
        .iter()
        .filter(|(name, _)| !NOT_KEPT.contains(&name.as_str()))
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let request = HandleStripeWebhookRequest {
        caller: c.meta(),
        payload: body.to_vec(),
        stripe_signature: signature,
        headers: kept,
        connect,
    };
    let response = c
        .billing()
        .handle_stripe_webhook(request)
        .await?
        .into_inner();
    let outcome = match response.outcome() {
        StripeEventOutcome::Applied => "applied",
        StripeEventOutcome::Duplicate => "duplicate",
        StripeEventOutcome::Ignored => "ignored",
        StripeEventOutcome::Stale => "stale",
        StripeEventOutcome::Failed | StripeEventOutcome::Unspecified => "unknown",
    };
    Ok(Json(Ack {
        received: true,
        event_id: response.event_id,
        outcome,
    }))
}
