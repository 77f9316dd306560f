//! Who may call what: billing's operators, and tenancy's membership gate for tenant-scoped calls.

use uuid::Uuid;

use crate::{
    error::BillingError,
    peers::{Needs, Tenancy},
};

/// The checks a use case runs before anything else.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    pub(crate) tenancy: Tenancy,
    /// User ids allowed to run operator use cases (catalog, replay, reconciliation, grants).
    pub(crate) operators: Vec<String>,
}

impl Access {
    /// `user` (the signed-in caller; empty when anonymous) must be one of billing's operators.
    pub(crate) fn operator(&self, user: &str) -> Result<(), BillingError> {
        if user.is_empty() {
            return Err(BillingError::Unauthenticated);
        }
        if !self.operators.iter().any(|op| op == user) {
            return Err(BillingError::PermissionDenied("operators only".to_owned()));
        }
        Ok(())
    }

    /// `user` must be a member of `tenant` in the role `needs`; `usable` also enforces the payment
    /// gate.
    pub(crate) async fn member(
        &self,
        user: &str,
        tenant: Uuid,
        needs: Needs,
        usable: bool,
    ) -> Result<(), BillingError> {
        self.tenancy.check(user, tenant, needs, usable).await
    }
}
