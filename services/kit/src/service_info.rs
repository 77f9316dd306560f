//! `onramp.common.v1.ServiceInfo`, served by every service: who it is and what schema it runs.

use onramp_proto::common::v1::{
    DescribeRequest, DescribeResponse,
    service_info_server::{ServiceInfo, ServiceInfoServer},
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::{db, error::ApiError};

/// The ServiceInfo implementation for one service.
#[derive(Debug, Clone)]
pub struct ServiceInfoService {
    service: &'static str,
    version: &'static str,
    pool: PgPool,
    started_at: prost_types::Timestamp,
}

impl ServiceInfoService {
    /// A ServiceInfo server for `service` at `version`, reading its schema from `pool`.
    pub fn server(
        service: &'static str,
        version: &'static str,
        pool: PgPool,
    ) -> ServiceInfoServer<Self> {
        let started_at = crate::grpc::convert::timestamp(chrono::Utc::now());
        ServiceInfoServer::new(Self {
            service,
            version,
            pool,
            started_at,
        })
    }
}

#[tonic::async_trait]
impl ServiceInfo for ServiceInfoService {
    async fn describe(
        &self,
        _: Request<DescribeRequest>,
    ) -> Result<Response<DescribeResponse>, Status> {
        let schema_version = db::schema_version(&self.pool).await.map_err(|error| {
            tracing::error!(error = %error, "reading the schema version");
            ApiError::internal()
        })?;
        Ok(Response::new(DescribeResponse {
            service: self.service.to_owned(),
            version: self.version.to_owned(),
            schema_version,
            started_at: Some(self.started_at),
        }))
    }
}
