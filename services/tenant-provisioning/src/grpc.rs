//! The gRPC surface of the tenant-provisioning service: proto <-> domain only. Methods not built yet answer
//! UNIMPLEMENTED through the generated default stubs.

use onramp_proto::tenancy::v1::tenancy_service_server::TenancyService;
use sqlx::PgPool;

/// Implements `onramp.tenancy.v1.TenancyService`.
#[derive(Debug, Clone)]
pub(crate) struct TenancyApi {
    #[allow(dead_code, reason = "the first feature issue wires the store")]
    pool: PgPool,
}

impl TenancyApi {
    pub(crate) fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl TenancyService for TenancyApi {}
