//! The gRPC surface of the billing service: proto <-> domain only. Methods not built yet answer
//! UNIMPLEMENTED through the generated default stubs.

use onramp_proto::billing::v1::billing_service_server::BillingService;
use sqlx::PgPool;

/// Implements `onramp.billing.v1.BillingService`.
#[derive(Debug, Clone)]
pub(crate) struct BillingApi {
    #[allow(dead_code, reason = "the first feature issue wires the store")]
    pool: PgPool,
}

impl BillingApi {
    pub(crate) fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl BillingService for BillingApi {}
