//! Onboarding's use cases, independent of gRPC: the checklist, Stripe Connect onboarding and sales
//! leads. Tenant-scoped use cases pass tenancy's membership gate here, first; the `grpc` module
//! only converts.

pub mod checklist;
pub mod connect;
pub(crate) mod leads;

use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use uuid::Uuid;

use crate::{
    domain::connect::Country,
    error::OnboardingError,
    peers::{Access, Peers},
    store::connect::{AccountRow, TokenRow},
};
use checklist::{Checklist, ChecklistView, StepChange};
use connect::Connect;
use leads::Leads;

/// The use cases, wired to storage, Stripe and the peers.
#[derive(Debug, Clone)]
pub(crate) struct Onboarding {
    pub(crate) checklist: Checklist,
    pub(crate) connect: Connect,
    pub(crate) leads: Leads,
    pub(crate) peers: Peers,
}

impl Onboarding {
    /// Asks tenancy whether `user` may act on `tenant` with `access`.
    async fn authorize(
        &self,
        tenant: Uuid,
        user: Uuid,
        access: Access,
    ) -> Result<(), OnboardingError> {
        // Traces carry who and which workspace (DESIGN: span attributes tenant_id, user_id).
        let span = tracing::Span::current();
        span.set_attribute("tenant_id", tenant.to_string());
        span.set_attribute("user_id", user.to_string());
        self.peers.check_membership(tenant, user, access).await
    }

    /// The member's checklist.
    pub(crate) async fn get_checklist(
        &self,
        tenant: Uuid,
        user: Uuid,
    ) -> Result<ChecklistView, OnboardingError> {
        self.authorize(tenant, user, Access::Member).await?;
        self.checklist.get(tenant, user).await
    }

    /// Completes, dismisses or restores one of the member's steps.
    pub(crate) async fn update_step(
        &self,
        tenant: Uuid,
        user: Uuid,
        step_id: &str,
        change: StepChange,
    ) -> Result<ChecklistView, OnboardingError> {
        self.authorize(tenant, user, Access::Member).await?;
        self.checklist.update(tenant, user, step_id, change).await
    }

    /// Dismisses every open step of the member's checklist.
    pub(crate) async fn dismiss_rest(
        &self,
        tenant: Uuid,
        user: Uuid,
    ) -> Result<(ChecklistView, Vec<String>), OnboardingError> {
        self.authorize(tenant, user, Access::Member).await?;
        self.checklist.dismiss_rest(tenant, user).await
    }

    /// Creates the tenant's connected account (owners and admins of a usable tenant).
    pub(crate) async fn create_connected_account(
        &self,
        tenant: Uuid,
        user: Uuid,
        country: &Country,
    ) -> Result<(AccountRow, bool), OnboardingError> {
        self.authorize(tenant, user, Access::AdminOfUsableTenant)
            .await?;
        self.connect.create_account(tenant, country).await
    }

    /// The tenant's connected account and newest token (any member).
    pub(crate) async fn connected_account(
        &self,
        tenant: Uuid,
        user: Uuid,
    ) -> Result<(AccountRow, Option<TokenRow>), OnboardingError> {
        self.authorize(tenant, user, Access::Member).await?;
        self.connect.account(tenant).await
    }

    /// Issues an onboarding token (owners and admins of a usable tenant).
    pub(crate) async fn create_onboarding_token(
        &self,
        tenant: Uuid,
        user: Uuid,
    ) -> Result<(crate::domain::secret::Secret, TokenRow), OnboardingError> {
        self.authorize(tenant, user, Access::AdminOfUsableTenant)
            .await?;
        self.connect.issue_token(tenant).await
    }

    /// Re-reads the tenant's account from Stripe (owners and admins of a usable tenant).
    pub(crate) async fn refresh_connected_account(
        &self,
        tenant: Uuid,
        user: Uuid,
    ) -> Result<(AccountRow, u64), OnboardingError> {
        self.authorize(tenant, user, Access::AdminOfUsableTenant)
            .await?;
        self.connect.refresh_account(tenant).await
    }
}
