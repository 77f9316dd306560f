//! Memberships and roles, with last-owner protection.

use std::collections::HashMap;

use uuid::Uuid;

use crate::{
    domain::role::Role,
    error::TenancyError,
    peers::UserInfo,
    service::{Page, Tenancy, access::require_role},
    store::{
        members::{self, Membership},
        tenants,
    },
};

const LAST_OWNER: &str = "a workspace needs at least one owner; make someone else owner first";

impl Tenancy {
    /// Members, owners first, with emails and names from identity when it answers.
    pub(crate) async fn list_members(
        &self,
        caller: Uuid,
        tenant_id: Uuid,
        page: Page,
    ) -> Result<(Vec<Membership>, HashMap<Uuid, UserInfo>), TenancyError> {
        self.member_of(tenant_id, caller).await?;
        let list = members::list(&self.pool, tenant_id, page.offset, page.size).await?;
        let ids: Vec<Uuid> = list.iter().map(|m| m.user_id).collect();
        // Names are a courtesy: the list is still right without them.
        let users = match self.users.users(&ids).await {
            Ok(users) => users,
            Err(error) => {
                tracing::debug!(%error, "member names unavailable");
                HashMap::new()
            }
        };
        Ok((list, users))
    }

    /// Changes a member's role (owners: any; admins: between admin and member, never owners).
    pub(crate) async fn change_role(
        &self,
        caller: Uuid,
        tenant_id: Uuid,
        target: Uuid,
        role: Role,
    ) -> Result<Membership, TenancyError> {
        let mut tx = self.pool.begin().await?;
        let tenant = tenants::lock(&mut tx, tenant_id).await?;
        let all = members::lock_all(&mut tx, tenant_id).await?;
        let (Some(tenant), Some(me)) = (tenant, all.iter().find(|m| m.user_id == caller)) else {
            return Err(TenancyError::NotFound("tenant"));
        };
        self.require_usable(&tenant)?;
        require_role(me.role, Role::Admin)?;
        let them = all
            .iter()
            .find(|m| m.user_id == target)
            .ok_or(TenancyError::NotFound("member"))?;
        if me.role != Role::Owner && (them.role == Role::Owner || role == Role::Owner) {
            return Err(TenancyError::PermissionDenied(
                "only owners can change owners",
            ));
        }
        if them.role == role {
            return Ok(them.clone());
        }
        if them.role == Role::Owner && owners(&all) == 1 {
            return Err(TenancyError::Conflict(LAST_OWNER));
        }
        let changed = members::set_role(&mut tx, tenant_id, target, role).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Removes a member, or lets the caller leave; returns how many remain.
    pub(crate) async fn remove_member(
        &self,
        caller: Uuid,
        tenant_id: Uuid,
        target: Uuid,
    ) -> Result<i64, TenancyError> {
        let mut tx = self.pool.begin().await?;
        let all = members::lock_all(&mut tx, tenant_id).await?;
        let me = all
            .iter()
            .find(|m| m.user_id == caller)
            .ok_or(TenancyError::NotFound("tenant"))?;
        let them = all
            .iter()
            .find(|m| m.user_id == target)
            .ok_or(TenancyError::NotFound("member"))?;
        if caller != target {
            require_role(me.role, Role::Admin)?;
            if them.role == Role::Owner && me.role != Role::Owner {
                return Err(TenancyError::PermissionDenied(
                    "only owners can remove owners",
                ));
            }
        }
        if them.role == Role::Owner && owners(&all) == 1 {
            return Err(TenancyError::Conflict(LAST_OWNER));
        }
        members::delete(&mut tx, tenant_id, target).await?;
        tx.commit().await?;
        Ok(all.len() as i64 - 1)
    }
}

fn owners(all: &[Membership]) -> usize {
    all.iter().filter(|m| m.role == Role::Owner).count()
}
