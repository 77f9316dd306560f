//! `POST /v1/webhooks/stripe` (and `/v1/webhooks/stripe/connect`): Stripe deliveries, passed to
//! billing byte for byte with their `Stripe-Signature`. Billing verifies, stores and applies; the edge
//! only turns the outcome into the status Stripe acts on (2xx: done; anything else: Stripe retries).

use axum::{Json, Router, body::Bytes, extract::State, routing::post};
use http::HeaderMap;
use onramp_proto::billing::v1::{HandleStripeWebhookRequest, StripeEventOutcome};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{auth::caller, problem::Problem, routes::AppState};

/// Headers never forwarded into the stored delivery (credentials) or forwarded separately.
const NOT_KEPT: [&str; 3] = ["authorization", "cookie", "stripe-signature"];

/// The webhook routes' OpenAPI paths.
#[derive(utoipa::OpenApi)]
#[openapi(paths(account, connect))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/webhooks/stripe", post(account))
        .route("/v1/webhooks/stripe/connect", post(connect))
}

/// The acknowledgement body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookAck)]
pub(crate) struct Ack {
    received: bool,
    event_id: String,
    /// `applied`, `duplicate`, `ignored`, `stale` or `unknown`.
    outcome: &'static str,
}

/// Stripe's account events (checkout, subscriptions, invoices).
#[utoipa::path(post, path = "/v1/webhooks/stripe", tag = "webhooks", operation_id = "stripe_webhook",
    params(("Stripe-Signature" = String, Header, description = "Stripe's `t=…,v1=…` signature over the raw body")),
    request_body(content = String, content_type = "application/json", description = "A Stripe event, byte for byte"),
    responses(
        (status = 200, description = "Stored and applied (or a duplicate: nothing changed)", body = Ack),
        (status = 400, description = "The signature did not verify, or the body is not a Stripe event"),
        (status = 403, description = "Webhooks are not configured (no signing secret)"),
        (status = 500, description = "Applying failed and was rolled back; Stripe retries"),
    ))]
async fn account(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Ack>, Problem> {
    ingest(state, headers, body, false).await
}

/// Stripe's Connect events (connected accounts).
#[utoipa::path(post, path = "/v1/webhooks/stripe/connect", tag = "webhooks", operation_id = "stripe_connect_webhook",
    params(("Stripe-Signature" = String, Header, description = "Stripe's `t=…,v1=…` signature over the raw body")),
    request_body(content = String, content_type = "application/json", description = "A Stripe Connect event, byte for byte"),
    responses(
        (status = 200, description = "Stored and applied (or a duplicate: nothing changed)", body = Ack),
        (status = 400, description = "The signature did not verify, or the body is not a Stripe event"),
        (status = 403, description = "Connect webhooks are not configured (no signing secret)"),
        (status = 500, description = "Applying failed and was rolled back; Stripe retries"),
    ))]
async fn connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Ack>, Problem> {
    ingest(state, headers, body, true).await
}

async fn ingest(
    state: AppState,
    headers: HeaderMap,
    body: Bytes,
    connect: bool,
) -> Result<Json<Ack>, Problem> {
    let signature = headers
        .get("stripe-signature")
        .and_then(|value| value.to_str().ok())
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
        caller: Some(caller(None, &headers)),
        payload: body.to_vec(),
        stripe_signature: signature,
        headers: kept,
        connect,
    };
    let response = state
        .peers
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
