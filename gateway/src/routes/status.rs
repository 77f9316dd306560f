//! `GET /v1/status`: what each service runs (version, schema), read through every service's
//! `ServiceInfo.Describe` — a cheap end-to-end check of gateway → service → database.

use axum::{Json, extract::State};
use futures::future::try_join_all;
use onramp_proto::common::v1::DescribeRequest;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{problem::Problem, routes::AppState};

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ServiceStatus {
    service: String,
    version: String,
    schema_version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StatusBody {
    services: Vec<ServiceStatus>,
}

/// `GET /v1/status`: every service's version and schema version.
#[utoipa::path(get, path = "/v1/status", tag = "meta", operation_id = "get_status",
    responses((status = 200, description = "What each service runs", body = StatusBody)))]
pub(crate) async fn describe_all(
    State(state): State<AppState>,
) -> Result<Json<StatusBody>, Problem> {
    let calls = state.peers.all().into_iter().map(|peer| {
        async move {
            // Describe only reads, so a replica going away mid-call is retried on another.
            let info = peer
                .retry
                .call_idempotent(|| {
                    let mut client = peer.info();
                    async move { client.describe(DescribeRequest {}).await }
                })
                .await?
                .into_inner();
            Ok::<_, tonic::Status>(ServiceStatus {
                service: info.service,
                version: info.version,
                schema_version: info.schema_version,
            })
        }
    });
    let services = try_join_all(calls).await?;
    Ok(Json(StatusBody { services }))
}
