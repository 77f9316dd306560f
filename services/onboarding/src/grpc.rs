//! The gRPC surface of the onboarding service: proto <-> domain only. Methods not built yet answer
//! UNIMPLEMENTED through the generated default stubs.

use onramp_proto::onboarding::v1::onboarding_service_server::OnboardingService;
use sqlx::PgPool;

/// Implements `onramp.onboarding.v1.OnboardingService`.
#[derive(Debug, Clone)]
pub(crate) struct OnboardingApi {
    #[allow(dead_code, reason = "the first feature issue wires the store")]
    pool: PgPool,
}

impl OnboardingApi {
    pub(crate) fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl OnboardingService for OnboardingApi {}
