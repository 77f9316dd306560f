//! Invites: bulk create (with the email in the outbox, same transaction), public lookup, accept with
//! the verified matching email, revoke, expiry.

use chrono::{DateTime, Utc};
use onramp_kit::mail::{Email as OutgoingEmail, outbox};
use uuid::Uuid;

use crate::{
    domain::{email::Email, role::Role},
    error::TenancyError,
    peers::UserInfo,
    service::{Page, Tenancy, access::require_role},
    store::{
        invites::{self, InviteRow, NewInvite},
        members::{self, Membership},
        tenants::{self, Tenant},
    },
};

/// An invite's state, computed from its timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InviteState {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl InviteState {
    pub(crate) fn of(row: &InviteRow, now: DateTime<Utc>) -> Self {
        if row.accepted_at.is_some() {
            InviteState::Accepted
        } else if row.revoked_at.is_some() {
            InviteState::Revoked
        } else if row.expires_at <= now {
            InviteState::Expired
        } else {
            InviteState::Pending
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            InviteState::Pending => "pending",
            InviteState::Accepted => "accepted",
            InviteState::Revoked => "revoked",
            InviteState::Expired => "expired",
        }
    }
}

/// What CreateInvites did for one email.
#[derive(Debug, Clone)]
pub(crate) enum InviteOutcome {
    Created { invite: InviteRow, code: String },
    AlreadyInvited(InviteRow),
    AlreadyMember,
}

/// What the public accept page may show.
#[derive(Debug, Clone)]
pub(crate) struct InvitePreview {
    pub(crate) tenant_name: String,
    pub(crate) inviter_display_name: String,
    pub(crate) role: Role,
    pub(crate) masked_email: String,
    pub(crate) expires_at: DateTime<Utc>,
}

/// An accepted invite's result.
#[derive(Debug, Clone)]
pub(crate) struct Accepted {
    pub(crate) tenant: Tenant,
    pub(crate) membership: Membership,
    pub(crate) already_member: bool,
}

/// A fresh invite code: 244 random bits (two v4 UUIDs), URL-safe.
fn new_code() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// Whether the signed-in user may take an invite addressed to `invited`.
pub(crate) fn check_invitee(invited: &str, user: &UserInfo) -> Result<(), TenancyError> {
    if !user.email_verified {
        return Err(TenancyError::EmailVerificationRequired);
    }
    if user.email.trim().to_lowercase() != invited {
        return Err(TenancyError::PermissionDenied(
            "this invite was sent to another email address",
        ));
    }
    Ok(())
}

impl Tenancy {
    /// Creates invites for distinct emails, all in one transaction with their outbox emails.
    pub(crate) async fn create_invites(
        &self,
        caller: Uuid,
        tenant_id: Uuid,
        specs: Vec<(Email, Role)>,
    ) -> Result<Vec<(Email, InviteOutcome)>, TenancyError> {
        let (tenant, my_role) = self.member_of(tenant_id, caller).await?;
        require_role(my_role, Role::Admin)?;
        if my_role != Role::Owner && specs.iter().any(|(_, role)| *role == Role::Owner) {
            return Err(TenancyError::PermissionDenied(
                "only owners can invite owners",
            ));
        }
        self.require_usable(&tenant)?;
        let mut distinct: Vec<(Email, Role)> = Vec::new();
        for (email, role) in specs {
            if !distinct.iter().any(|(seen, _)| *seen == email) {
                distinct.push((email, role));
            }
        }
        let expires_at = Utc::now()
            + chrono::Duration::from_std(self.settings.invite_validity)
                .unwrap_or(chrono::Duration::days(7));
        let seats = self.entitlements.seat_limit(tenant_id).await?;
        let mut tx = self.pool.begin().await?;
        // Serialises invites per tenant so two bulk invites cannot both pass the seat check.
        tenants::lock(&mut tx, tenant_id).await?;
        let mut used = members::count(&mut *tx, tenant_id).await?
            + invites::count_pending(&mut *tx, tenant_id).await?;
        let mut results = Vec::with_capacity(distinct.len());
        for (email, role) in distinct {
            if invites::accepted_email(&mut *tx, tenant_id, email.as_str()).await? {
                results.push((email, InviteOutcome::AlreadyMember));
                continue;
            }
            let code = new_code();
            let open = invites::open_for_email(&mut tx, tenant_id, email.as_str()).await?;
            let outcome = match open {
                Some(existing) if existing.expires_at > Utc::now() => {
                    // The code is only stored hashed, so re-sending means a new link.
                    invites::rotate_code(&mut tx, existing.id, &code).await?;
                    InviteOutcome::AlreadyInvited(existing)
                }
                stale => {
                    if let Some(expired) = stale {
                        invites::close_expired(&mut tx, expired.id).await?;
                    }
                    let new = NewInvite {
                        tenant_id,
                        email: email.as_str(),
                        role: role.as_str(),
                        code: &code,
                        invited_by: caller,
                        expires_at,
                    };
                    used += 1;
                    if seats.is_some_and(|seats| used > seats) {
                        return Err(TenancyError::LimitExceeded(
                            "these invites would pass your plan's seat limit; nothing was sent",
                        ));
                    }
                    let invite = invites::insert(&mut tx, &new).await?;
                    crate::funnel::invite_sent(&mut tx, caller, tenant_id, invite.id, role).await?;
                    InviteOutcome::Created {
                        invite,
                        code: code.clone(),
                    }
                }
            };
            let link_expires_at = match &outcome {
                InviteOutcome::Created { invite, .. } | InviteOutcome::AlreadyInvited(invite) => {
                    invite.expires_at
                }
                InviteOutcome::AlreadyMember => expires_at,
            };
            let message = OutgoingEmail {
                to: email.as_str().to_owned(),
                subject: format!("You are invited to join {}", tenant.name),
                body_text: format!(
                    "You are invited to join {} on Onramp.\n\nAccept the invite: {}{}\n\nThis link expires on {}.\n",
                    tenant.name,
                    self.settings.invite_link_base,
                    code,
                    link_expires_at.format("%Y-%m-%d %H:%M UTC"),
                ),
            };
            outbox::enqueue(&mut tx, &message).await?;
            results.push((email, outcome));
        }
        tx.commit().await?;
        Ok(results)
    }

    /// A pending invite by code, or NOT_FOUND (unknown, expired, revoked or accepted look the same).
    async fn pending_invite(&self, code: &str) -> Result<InviteRow, TenancyError> {
        invites::by_code(&self.pool, code, false)
            .await?
            .filter(|row| InviteState::of(row, Utc::now()) == InviteState::Pending)
            .ok_or(TenancyError::NotFound("invite"))
    }

    /// The public preview of an invite.
    pub(crate) async fn lookup_invite(&self, code: &str) -> Result<InvitePreview, TenancyError> {
        let invite = self.pending_invite(code).await?;
        let tenant = tenants::get(&self.pool, invite.tenant_id)
            .await?
            .ok_or(TenancyError::NotFound("invite"))?;
        // The inviter's name is a courtesy; the page works without it.
        let inviter = self
            .users
            .user(invite.invited_by)
            .await
            .ok()
            .flatten()
            .map(|user| user.display_name)
            .unwrap_or_default();
        Ok(InvitePreview {
            tenant_name: tenant.name,
            inviter_display_name: inviter,
            role: role_of(&invite)?,
            masked_email: crate::domain::email::mask(&invite.email),
            expires_at: invite.expires_at,
        })
    }

    /// The full invite for identity (internal).
    pub(crate) async fn resolve_invite(
        &self,
        code: &str,
    ) -> Result<(InviteRow, Role), TenancyError> {
        let invite = self.pending_invite(code).await?;
        let role = role_of(&invite)?;
        Ok((invite, role))
    }

    /// Accepts an invite as the signed-in caller, whose verified email must be the invited one.
    pub(crate) async fn accept_invite(
        &self,
        caller: Uuid,
        code: &str,
    ) -> Result<Accepted, TenancyError> {
        let invite = self.pending_invite(code).await?;
        let user = self
            .users
            .user(caller)
            .await?
            .ok_or(TenancyError::Unauthenticated)?;
        check_invitee(&invite.email, &user)?;
        let mut tx = self.pool.begin().await?;
        let invite = invites::by_code(&mut *tx, code, true)
            .await?
            .filter(|row| InviteState::of(row, Utc::now()) == InviteState::Pending)
            .ok_or(TenancyError::NotFound("invite"))?;
        let tenant = tenants::get(&mut *tx, invite.tenant_id)
            .await?
            .ok_or(TenancyError::NotFound("invite"))?;
        let existing = members::get(&mut *tx, invite.tenant_id, caller).await?;
        let already_member = existing.is_some();
        let membership = match existing {
            Some(membership) => membership,
            None => members::insert(&mut tx, invite.tenant_id, caller, role_of(&invite)?).await?,
        };
        invites::mark_accepted(&mut tx, invite.id, caller).await?;
        crate::funnel::invite_accepted(&mut tx, caller, tenant.id, invite.id, already_member)
            .await?;
        tx.commit().await?;
        Ok(Accepted {
            tenant,
            membership,
            already_member,
        })
    }

    /// Revokes a pending invite (owners and admins); revoking twice is fine, an accepted one is not.
    pub(crate) async fn revoke_invite(
        &self,
        caller: Uuid,
        tenant_id: Uuid,
        invite_id: Uuid,
    ) -> Result<InviteRow, TenancyError> {
        let (_, role) = self.member_of(tenant_id, caller).await?;
        require_role(role, Role::Admin)?;
        let mut tx = self.pool.begin().await?;
        let invite = invites::by_id(&mut tx, tenant_id, invite_id)
            .await?
            .ok_or(TenancyError::NotFound("invite"))?;
        if invite.accepted_at.is_some() {
            return Err(TenancyError::Conflict("this invite was already accepted"));
        }
        let revoked = invites::mark_revoked(&mut tx, invite.id).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// Invites of a tenant, newest first (owners and admins).
    pub(crate) async fn list_invites(
        &self,
        caller: Uuid,
        tenant_id: Uuid,
        state: Option<InviteState>,
        page: Page,
    ) -> Result<Vec<InviteRow>, TenancyError> {
        let (_, role) = self.member_of(tenant_id, caller).await?;
        require_role(role, Role::Admin)?;
        Ok(invites::list(
            &self.pool,
            tenant_id,
            state.map(InviteState::as_str),
            page.offset,
            page.size,
        )
        .await?)
    }
}

pub(crate) fn role_of(invite: &InviteRow) -> Result<Role, TenancyError> {
    Role::from_db(&invite.role).ok_or_else(|| {
        TenancyError::Unexpected(anyhow::anyhow!(
            "invite {} has role {}",
            invite.id,
            invite.role
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(email: &str, verified: bool) -> UserInfo {
        UserInfo {
            email: email.to_owned(),
            email_verified: verified,
            display_name: String::new(),
        }
    }

    #[test]
    fn only_the_verified_invited_address_may_accept() {
        assert!(check_invitee("jane@example.com", &user("Jane@Example.com", true)).is_ok());
        assert!(matches!(
            check_invitee("jane@example.com", &user("jane@example.com", false)),
            Err(TenancyError::EmailVerificationRequired)
        ));
        assert!(matches!(
            check_invitee("jane@example.com", &user("john@example.com", true)),
            Err(TenancyError::PermissionDenied(_))
        ));
    }
}
