//! Tenancy's peers: what it asks other contexts, as small traits — billing's entitlement at
//! provisioning and identity's user directory at invite accept. The production implementations are the gRPC clients;
//! a deployment without billing (no `BILLING_SERVICE_ADDR`) uses a fixed starting state instead.

use std::{collections::HashMap, fmt::Debug};

use onramp_kit::{grpc::client::TracedChannel, retry::RetryPolicy};
use onramp_proto::{
    billing::v1::{
        EnsureEntitlementRequest, EntitlementState, GetLimitRequest,
        billing_service_client::BillingServiceClient, limit_value::Value as LimitValue,
    },
    identity::v1::{LookupUsersRequest, identity_service_client::IdentityServiceClient},
};
use tonic::Code as GrpcCode;
use uuid::Uuid;

use crate::{
    domain::{
        inputs::{Invalid, PlanHint},
        lifecycle::TenantState,
    },
    error::TenancyError,
};

/// Answers "does this new tenant start active?" before provisioning writes anything.
#[tonic::async_trait]
pub(crate) trait Entitlements: Send + Sync + Debug {
    /// The state the tenant starts in: `Active` (trial, free, complimentary) or `PendingPayment`.
    async fn starting_state(
        &self,
        tenant_id: Uuid,
        plan: &PlanHint,
        owner: Uuid,
    ) -> Result<TenantState, TenancyError>;

    /// The tenant's `seats` limit under its plan (members plus pending invites); None: unlimited.
    async fn seat_limit(&self, tenant_id: Uuid) -> Result<Option<i64>, TenancyError>;
}

/// Billing's `EnsureEntitlement` over gRPC (idempotent on tenant_id, so retried on UNAVAILABLE).
#[derive(Debug, Clone)]
pub(crate) struct BillingEntitlements {
    client: BillingServiceClient<TracedChannel>,
    retry: RetryPolicy,
}

impl BillingEntitlements {
    pub(crate) fn new(channel: TracedChannel) -> Self {
        Self {
            client: BillingServiceClient::new(channel),
            retry: RetryPolicy::default(),
        }
    }
}

#[tonic::async_trait]
impl Entitlements for BillingEntitlements {
    async fn starting_state(
        &self,
        tenant_id: Uuid,
        plan: &PlanHint,
        owner: Uuid,
    ) -> Result<TenantState, TenancyError> {
        let request = EnsureEntitlementRequest {
            tenant_id: tenant_id.to_string(),
            plan_id: plan.as_str().to_owned(),
            owner_user_id: owner.to_string(),
        };
        let answer = self
            .retry
            .call_idempotent(|| {
                let mut client = self.client.clone();
                let request = request.clone();
                async move { client.ensure_entitlement(request).await }
            })
            .await;
        match answer {
            Ok(response) => {
                let active = response
                    .into_inner()
                    .entitlement
                    .is_some_and(|e| e.state() == EntitlementState::Active);
                Ok(if active {
                    TenantState::Active
                } else {
                    TenantState::PendingPayment
                })
            }
            // Billing refusing the plan is the user's input at fault, not an outage.
            Err(status) if status.code() == GrpcCode::InvalidArgument => {
                Err(TenancyError::Invalid(Invalid::new(
                    "plan_id",
                    format!("plan_id was refused by billing: {}", status.message()),
                )))
            }
            Err(status) => Err(unavailable("billing", "EnsureEntitlement", &status)),
        }
    }

    async fn seat_limit(&self, tenant_id: Uuid) -> Result<Option<i64>, TenancyError> {
        let request = GetLimitRequest {
            tenant_id: tenant_id.to_string(),
            field: "seats".to_owned(),
        };
        let answer = self
            .retry
            .call_idempotent(|| {
                let mut client = self.client.clone();
                let request = request.clone();
                async move { client.get_limit(request).await }
            })
            .await;
        match answer {
            Ok(response) => Ok(
                match response.into_inner().limit.and_then(|limit| limit.value) {
                    Some(LimitValue::Max(max)) => Some(max),
                    _ => None,
                },
            ),
            // The catalog has no `seats` field: nothing to enforce.
            Err(status) if status.code() == GrpcCode::NotFound => Ok(None),
            Err(status) => Err(unavailable("billing", "GetLimit", &status)),
        }
    }
}

/// No billing in this deployment: every new tenant starts in one configured state, with one
/// configured seat limit.
#[derive(Debug, Clone)]
pub(crate) struct FixedEntitlements {
    pub(crate) state: TenantState,
    pub(crate) seats: Option<i64>,
}

#[tonic::async_trait]
impl Entitlements for FixedEntitlements {
    async fn starting_state(
        &self,
        _: Uuid,
        _: &PlanHint,
        _: Uuid,
    ) -> Result<TenantState, TenancyError> {
        Ok(self.state)
    }

    async fn seat_limit(&self, _: Uuid) -> Result<Option<i64>, TenancyError> {
        Ok(self.seats)
    }
}

/// What tenancy needs to know about a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserInfo {
    pub(crate) email: String,
    pub(crate) email_verified: bool,
    pub(crate) display_name: String,
}

/// Reads users from identity.
#[tonic::async_trait]
pub(crate) trait UserDirectory: Send + Sync + Debug {
    /// The users identity knows among `ids` (unknown ids are simply absent).
    async fn users(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, UserInfo>, TenancyError>;

    /// One user, or None when identity has no such account.
    async fn user(&self, user_id: Uuid) -> Result<Option<UserInfo>, TenancyError> {
        Ok(self.users(&[user_id]).await?.remove(&user_id))
    }
}

/// Identity's `LookupUsers` over gRPC (a read, so retried on UNAVAILABLE).
#[derive(Debug, Clone)]
pub(crate) struct IdentityDirectory {
    client: IdentityServiceClient<TracedChannel>,
    retry: RetryPolicy,
}

impl IdentityDirectory {
    pub(crate) fn new(channel: TracedChannel) -> Self {
        Self {
            client: IdentityServiceClient::new(channel),
            retry: RetryPolicy::default(),
        }
    }
}

#[tonic::async_trait]
impl UserDirectory for IdentityDirectory {
    async fn users(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, UserInfo>, TenancyError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let request = LookupUsersRequest {
            user_ids: ids.iter().map(Uuid::to_string).collect(),
        };
        let answer = self
            .retry
            .call_idempotent(|| {
                let mut client = self.client.clone();
                let request = request.clone();
                async move { client.lookup_users(request).await }
            })
            .await
            .map_err(|status| unavailable("identity", "LookupUsers", &status))?;
        Ok(answer
            .into_inner()
            .users
            .into_iter()
            .filter_map(|user| {
                let id = Uuid::parse_str(&user.id).ok()?;
                let info = UserInfo {
                    email: user.email,
                    email_verified: user.email_verified,
                    display_name: user.display_name,
                };
                Some((id, info))
            })
            .collect())
    }
}

/// No identity configured: nobody's email can be checked, so accepting invites is unavailable.
#[derive(Debug, Clone)]
pub(crate) struct NoDirectory;

#[tonic::async_trait]
impl UserDirectory for NoDirectory {
    async fn users(&self, _: &[Uuid]) -> Result<HashMap<Uuid, UserInfo>, TenancyError> {
        Err(TenancyError::Unavailable {
            peer: "identity",
            detail: "no IDENTITY_SERVICE_ADDR is configured".to_owned(),
        })
    }
}

/// A peer that failed or answered with an error: UNAVAILABLE, its answer kept for operators.
fn unavailable(peer: &'static str, rpc: &str, status: &tonic::Status) -> TenancyError {
    TenancyError::Unavailable {
        peer,
        detail: format!("{rpc} answered {:?}: {}", status.code(), status.message()),
    }
}
