//! Kubernetes probes: `/healthz` says the process is up; `/readyz` asks every service's gRPC health.

use std::collections::BTreeMap;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use futures::future::join_all;
use onramp_kit::{Code, Deadline};
use serde::Serialize;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
use utoipa::ToSchema;

use crate::{clients::Peer, problem::Problem, routes::AppState};

/// `GET /healthz` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Liveness {
    /// Always `ok`.
    status: &'static str,
}

/// `GET /healthz`: 200 while the process runs; it checks nothing else, so a slow peer never gets the
/// gateway restarted.
#[utoipa::path(get, path = "/healthz", tag = "meta", operation_id = "healthz",
    responses((status = 200, description = "The process runs", body = Liveness)))]
pub(crate) async fn live() -> impl IntoResponse {
    Json(Liveness { status: "ok" })
}

/// `GET /readyz` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Readiness {
    /// Always `ready` (otherwise the answer is a 503 problem).
    status: &'static str,
    /// Each service's gRPC health: `SERVING`, `NOT_SERVING`, `UNKNOWN` or `UNREACHABLE`.
    #[schema(value_type = BTreeMap<String, String>)]
    services: BTreeMap<&'static str, &'static str>,
}

/// `GET /readyz`: 200 when every downstream service reports SERVING; otherwise 503 problem+json
/// naming the ones that do not.
#[utoipa::path(get, path = "/readyz", tag = "meta", operation_id = "readyz",
    responses((status = 200, description = "Every service is SERVING", body = Readiness)))]
pub(crate) async fn ready(State(state): State<AppState>) -> axum::response::Response {
    let deadline = Deadline::after(state.readiness_timeout);
    let checks = state.peers.all().map(|peer| deadline.scope(check(peer)));
    let services: BTreeMap<_, _> = join_all(checks).await.into_iter().collect();
    let missing: Vec<_> = services
        .iter()
        .filter(|(_, s)| **s != "SERVING")
        .map(|(n, _)| *n)
        .collect();
    if missing.is_empty() {
        return (
            StatusCode::OK,
            Json(Readiness {
                status: "ready",
                services,
            }),
        )
            .into_response();
    }
    Problem::new(
        Code::Unavailable,
        format!("not ready: {}", missing.join(", ")),
    )
    .into_response()
}

async fn check(peer: &Peer) -> (&'static str, &'static str) {
    let request = HealthCheckRequest {
        service: String::new(),
    };
    let status = match peer.health().check(request).await {
        Ok(response) => match response.into_inner().status() {
            ServingStatus::Serving => "SERVING",
            ServingStatus::NotServing => "NOT_SERVING",
            ServingStatus::Unknown | ServingStatus::ServiceUnknown => "UNKNOWN",
        },
        Err(_) => "UNREACHABLE",
    };
    (peer.name, status)
}
