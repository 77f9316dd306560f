//! Billing's calls to tenancy: membership checks on tenant-scoped requests and the member count behind
//! the `seats` usage. Tenancy's table errors pass through; anything else means "unreachable".

use onramp_kit::{
    ApiError, Code,
    grpc::client::{self, TracedChannel},
};
use onramp_proto::tenancy::v1::{
    CheckMembershipRequest, CountMembersRequest, Role, tenancy_service_client::TenancyServiceClient,
};
use uuid::Uuid;

use crate::error::BillingError;

/// A tenancy client (absent when no address is configured).
#[derive(Debug, Clone)]
pub(crate) struct Tenancy {
    client: Option<TenancyServiceClient<TracedChannel>>,
}

/// The role a request needs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Needs {
    AnyMember,
    OwnerOrAdmin,
}

fn unreachable() -> BillingError {
    BillingError::Peer(ApiError::new(
        Code::Unavailable,
        "workspace membership could not be checked; nothing was changed, retry",
    ))
}

fn pass_on(status: tonic::Status) -> BillingError {
    let error = ApiError::from_status(&status);
    match error.code {
        Code::NotFound | Code::PermissionDenied | Code::PaymentPending | Code::InvalidArgument => {
            BillingError::Peer(error)
        }
        _ => {
            tracing::warn!(code = ?status.code(), message = status.message(), "tenancy call failed");
            unreachable()
        }
    }
}

impl Tenancy {
    pub(crate) fn new(addr: Option<&str>) -> anyhow::Result<Self> {
        let client = addr
            .map(|addr| {
                anyhow::Ok(TenancyServiceClient::new(client::traced(client::channel(
                    addr,
                )?)))
            })
            .transpose()?;
        Ok(Self { client })
    }

    /// The caller must be a member (with the role); `usable` also enforces the payment gate.
    pub(crate) async fn check(
        &self,
        user_id: &str,
        tenant_id: Uuid,
        needs: Needs,
        usable: bool,
    ) -> Result<(), BillingError> {
        if user_id.is_empty() {
            return Err(BillingError::Unauthenticated);
        }
        let mut client = self.client.clone().ok_or_else(unreachable)?;
        let minimum_role = match needs {
            Needs::AnyMember => Role::Unspecified,
            Needs::OwnerOrAdmin => Role::Admin,
        };
        client
            .check_membership(CheckMembershipRequest {
                tenant_id: tenant_id.to_string(),
                user_id: user_id.to_owned(),
                minimum_role: minimum_role as i32,
                require_usable: usable,
            })
            .await
            .map(drop)
            .map_err(pass_on)
    }

    /// Whether tenancy knows the tenant (`None`: no tenancy address is configured).
    pub(crate) async fn knows(&self, tenant_id: Uuid) -> Result<Option<bool>, BillingError> {
        if self.client.is_none() {
            return Ok(None);
        }
        match self.members(tenant_id).await {
            Ok(_) => Ok(Some(true)),
            Err(BillingError::Peer(error)) if error.code == Code::NotFound => Ok(Some(false)),
            Err(error) => Err(error),
        }
    }

    /// Members of the tenant (the `seats` usage).
    pub(crate) async fn members(&self, tenant_id: Uuid) -> Result<i64, BillingError> {
        let mut client = self.client.clone().ok_or_else(unreachable)?;
        let response = client
            .count_members(CountMembersRequest {
                tenant_id: tenant_id.to_string(),
            })
            .await
            .map_err(pass_on)?;
        Ok(i64::from(response.into_inner().members))
    }
}
