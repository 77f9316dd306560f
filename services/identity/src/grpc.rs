//! The gRPC surface of the identity service: proto <-> domain only. Methods not built yet answer
//! UNIMPLEMENTED through the generated default stubs.

use onramp_proto::identity::v1::identity_service_server::IdentityService;
use sqlx::PgPool;

/// Implements `onramp.identity.v1.IdentityService`.
#[derive(Debug, Clone)]
pub(crate) struct IdentityApi {
    #[allow(dead_code, reason = "the first feature issue wires the store")]
    pool: PgPool,
}

impl IdentityApi {
    pub(crate) fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl IdentityService for IdentityApi {}
