//! Who may see and do what in a tenant: membership (else NOT_FOUND, never 403), roles, the payment gate.

use uuid::Uuid;

use crate::{
    domain::{lifecycle::Gate, role::Role},
    error::TenancyError,
    service::Tenancy,
    store::tenants::{self, Tenant},
};

impl Tenancy {
    /// The tenant and the caller's role, or NOT_FOUND when the caller is not a member (so tenant ids
    /// cannot be probed).
    pub(crate) async fn member_of(
        &self,
        tenant_id: Uuid,
        user_id: Uuid,
    ) -> Result<(Tenant, Role), TenancyError> {
        tenants::for_member(&self.pool, tenant_id, user_id)
            .await?
            .ok_or(TenancyError::NotFound("tenant"))
    }

    /// The payment gate: pending_payment -> PAYMENT_PENDING (with the retry hint), suspended or
    /// canceled -> PERMISSION_DENIED.
    pub(crate) fn require_usable(&self, tenant: &Tenant) -> Result<(), TenancyError> {
        match tenant.state.gate() {
            Gate::None => Ok(()),
            Gate::PaymentPending => Err(TenancyError::PaymentPending {
                retry_after: self.settings.payment_retry_after,
            }),
            Gate::Suspended => Err(TenancyError::PermissionDenied(
                "this workspace is suspended",
            )),
            Gate::Canceled => Err(TenancyError::PermissionDenied(
                "this workspace's subscription has ended",
            )),
        }
    }
}

/// PERMISSION_DENIED unless `role` is at least `minimum`.
pub(crate) fn require_role(role: Role, minimum: Role) -> Result<(), TenancyError> {
    if role.at_least(minimum) {
        Ok(())
    } else {
        Err(TenancyError::PermissionDenied(
            "your role does not allow this",
        ))
    }
}
