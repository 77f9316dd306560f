//! Calls to the other contexts: tenancy's membership gate, and the reads behind checklist steps.
//! Every call carries a deadline (the request's remaining budget, or shorter).

use std::time::Duration;

use onramp_kit::{
    ApiError, Code,
    grpc::client::{self, TracedChannel},
};
use onramp_proto::{
    billing::v1::{
        EntitlementState, GetEntitlementRequest, billing_service_client::BillingServiceClient,
    },
    identity::v1::{LookupUsersRequest, identity_service_client::IdentityServiceClient},
    tenancy::v1::{
        CheckMembershipRequest, CountMembersRequest, Role,
        tenancy_service_client::TenancyServiceClient,
    },
};
use tonic::Request;
use uuid::Uuid;

use crate::error::OnboardingError;

/// Who may do what on a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any member, payment gate not enforced (reading the checklist).
    Member,
    /// Owners and admins of a usable (paid, not suspended) tenant (Connect actions).
    AdminOfUsableTenant,
}

/// Channels to identity, tenancy and billing.
#[derive(Debug, Clone)]
pub struct Peers {
    identity: TracedChannel,
    tenancy: TracedChannel,
    billing: TracedChannel,
}

impl Peers {
    /// Lazily connecting channels (a peer that starts later is fine).
    pub fn connect(identity: &str, tenancy: &str, billing: &str) -> anyhow::Result<Self> {
        Ok(Self {
            identity: client::traced(client::channel(identity)?),
            tenancy: client::traced(client::channel(tenancy)?),
            billing: client::traced(client::channel(billing)?),
        })
    }

    /// Tenancy's membership gate. A refusal passes through as is; a tenancy that cannot answer
    /// (down, or not offering the check) is UNAVAILABLE: access is never granted without an answer.
    pub async fn check_membership(
        &self,
        tenant_id: Uuid,
        user_id: Uuid,
        access: Access,
    ) -> Result<(), OnboardingError> {
        let (minimum_role, require_usable) = match access {
            Access::Member => (Role::Unspecified, false),
            Access::AdminOfUsableTenant => (Role::Admin, true),
        };
        let request = CheckMembershipRequest {
            tenant_id: tenant_id.to_string(),
            user_id: user_id.to_string(),
            minimum_role: minimum_role as i32,
            require_usable,
        };
        let answer = TenancyServiceClient::new(self.tenancy.clone())
            .check_membership(request)
            .await;
        match answer {
            Ok(_) => Ok(()),
            Err(status) => {
                let error = ApiError::from_status(&status);
                Err(OnboardingError::Peer(match error.code {
                    Code::NotFound
                    | Code::PermissionDenied
                    | Code::PaymentPending
                    | Code::InvalidArgument
                    | Code::DeadlineExceeded => error,
                    _ => {
                        tracing::warn!(code = ?status.code(), "membership check failed");
                        ApiError::new(Code::Unavailable, "tenant membership could not be checked")
                    }
                }))
            }
        }
    }

    /// Whether the user's email is verified; `None` when identity did not answer within `wait`.
    pub async fn email_verified(&self, user_id: Uuid, wait: Duration) -> Option<bool> {
        let mut request = Request::new(LookupUsersRequest {
            user_ids: vec![user_id.to_string()],
        });
        request.set_timeout(wait);
        let mut client = IdentityServiceClient::new(self.identity.clone());
        let call = client.lookup_users(request);
        let answer = bounded(wait, call).await?;
        answer
            .users
            .iter()
            .find(|user| user.id == user_id.to_string())
            .map(|user| user.email_verified)
    }

    /// Whether the tenant's plan is active (or past due, still entitled); `None` when unknown.
    pub async fn plan_active(&self, tenant_id: Uuid, wait: Duration) -> Option<bool> {
        let mut request = Request::new(GetEntitlementRequest {
            tenant_id: tenant_id.to_string(),
        });
        request.set_timeout(wait);
        let mut client = BillingServiceClient::new(self.billing.clone());
        let call = client.get_entitlement(request);
        let answer = bounded(wait, call).await?;
        let state = answer.entitlement?.state();
        Some(matches!(
            state,
            EntitlementState::Active | EntitlementState::PastDue
        ))
    }

    /// Whether the tenant has a second member; `None` when unknown.
    pub async fn has_teammates(&self, tenant_id: Uuid, wait: Duration) -> Option<bool> {
        let mut request = Request::new(CountMembersRequest {
            tenant_id: tenant_id.to_string(),
        });
        request.set_timeout(wait);
        let mut client = TenancyServiceClient::new(self.tenancy.clone());
        let call = client.count_members(request);
        let answer = bounded(wait, call).await?;
        Some(answer.members >= 2)
    }
}

/// Runs a checklist read with a hard bound: any failure (down, slow, not implemented) is "unknown",
/// never an error, because the checklist must render without the other contexts.
async fn bounded<T>(
    wait: Duration,
    call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Option<T> {
    match tokio::time::timeout(wait, call).await {
        Ok(Ok(response)) => Some(response.into_inner()),
        Ok(Err(status)) => {
            tracing::debug!(code = ?status.code(), "checklist source unavailable");
            None
        }
        Err(_) => {
            tracing::debug!("checklist source timed out");
            None
        }
    }
}
