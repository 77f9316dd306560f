//! Lifecycle: billing's events (idempotent on the event id), status, reads and the membership check
//! other services rely on.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    domain::{
        lifecycle::{Status, Step, TenantState, Transition},
        role::Role,
    },
    error::TenancyError,
    service::{Page, Tenancy, access::require_role},
    store::{
        billing_events::{self, NewEvent},
        invites, members,
        members::Membership,
        provisioning::{self, StarterItem},
        tenants::{self, Tenant},
    },
};

/// A parsed ApplyBillingEvent request.
#[derive(Debug, Clone)]
pub(crate) struct BillingEvent {
    pub(crate) event_id: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) transition: Transition,
    pub(crate) billing_version: i64,
    pub(crate) occurred_at: Option<DateTime<Utc>>,
    pub(crate) stripe_event_id: String,
    pub(crate) reason: String,
}

/// What ApplyBillingEvent did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventOutcome {
    Applied,
    Duplicate,
    NoChange,
    Stale,
}

impl EventOutcome {
    fn as_str(self) -> &'static str {
        match self {
            EventOutcome::Applied => "applied",
            EventOutcome::Duplicate => "duplicate",
            EventOutcome::NoChange => "no_change",
            EventOutcome::Stale => "stale",
        }
    }
}

/// The outcome with the states before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventResult {
    pub(crate) outcome: EventOutcome,
    pub(crate) previous: TenantState,
    pub(crate) state: TenantState,
}

/// A membership check's answer.
#[derive(Debug, Clone)]
pub(crate) struct MembershipCheck {
    pub(crate) membership: Membership,
    pub(crate) tenant: Tenant,
    pub(crate) status: Status,
}

impl Tenancy {
    /// Applies billing's transition once per event id. The tenant row is locked first, so duplicates
    /// delivered at the same time are serialised and the second finds the first's record.
    pub(crate) async fn apply_billing_event(
        &self,
        event: BillingEvent,
    ) -> Result<EventResult, TenancyError> {
        let mut tx = self.pool.begin().await?;
        let tenant = tenants::lock(&mut tx, event.tenant_id)
            .await?
            .ok_or(TenancyError::NotFound("tenant"))?;
        let current = tenant.state;
        if billing_events::seen(&mut tx, event.event_id).await? {
            return Ok(EventResult {
                outcome: EventOutcome::Duplicate,
                previous: current,
                state: current,
            });
        }
        let (outcome, state) = if event.billing_version < tenant.last_billing_version {
            (EventOutcome::Stale, current)
        } else {
            match current.apply(event.transition) {
                Step::Move(next) => {
                    tenants::set_state(&mut tx, tenant.id, next, event.billing_version).await?;
                    if current == TenantState::PendingPayment && next == TenantState::Active {
                        crate::funnel::workspace_activated(&mut tx, tenant.id).await?;
                    }
                    (EventOutcome::Applied, next)
                }
                Step::Stay => {
                    tenants::note_billing_version(&mut tx, tenant.id, event.billing_version)
                        .await?;
                    (EventOutcome::NoChange, current)
                }
                Step::Refused => {
                    return Err(TenancyError::Conflict(
                        "this lifecycle transition is not allowed from the tenant's current state",
                    ));
                }
            }
        };
        billing_events::insert(
            &mut tx,
            &NewEvent {
                event_id: event.event_id,
                tenant_id: tenant.id,
                transition: event.transition.as_str(),
                billing_version: event.billing_version,
                outcome: outcome.as_str(),
                previous_state: current.as_str(),
                state: state.as_str(),
                stripe_event_id: &event.stripe_event_id,
                reason: &event.reason,
                occurred_at: event.occurred_at,
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(tenant_id = %tenant.id, event_id = %event.event_id, outcome = outcome.as_str(),
            from = current.as_str(), to = state.as_str(), "billing event");
        Ok(EventResult {
            outcome,
            previous: current,
            state,
        })
    }

    pub(crate) fn status_of(&self, tenant: &Tenant) -> Status {
        Status::of(tenant.state, self.settings.payment_retry_after)
    }

    /// The tenant's status for a member (never payment-gated).
    pub(crate) async fn tenant_status(
        &self,
        user_id: Uuid,
        tenant_id: Uuid,
    ) -> Result<(Tenant, Status), TenancyError> {
        let (tenant, _) = self.member_of(tenant_id, user_id).await?;
        let status = self.status_of(&tenant);
        Ok((tenant, status))
    }

    /// The tenant's starter data (payment-gated).
    pub(crate) async fn starter_data(
        &self,
        user_id: Uuid,
        tenant_id: Uuid,
    ) -> Result<(Tenant, Vec<StarterItem>), TenancyError> {
        let (tenant, _) = self.member_of(tenant_id, user_id).await?;
        self.require_usable(&tenant)?;
        let items = provisioning::starter_items(&self.pool, tenant.id).await?;
        Ok((tenant, items))
    }

    pub(crate) async fn my_tenants(
        &self,
        user_id: Uuid,
        page: Page,
    ) -> Result<Vec<(Tenant, Role)>, TenancyError> {
        // The token is an offset, like every list here; lists of one user's tenants are short.
        let rows =
            tenants::list_for_user(&self.pool, user_id, None, page.offset + page.size).await?;
        Ok(rows
            .into_iter()
            .skip(page.offset as usize)
            .map(|(tenant, role, _)| (tenant, role))
            .collect())
    }

    /// The internal membership check (billing, onboarding).
    pub(crate) async fn check_membership(
        &self,
        tenant_id: Uuid,
        user_id: Uuid,
        minimum: Option<Role>,
        require_usable: bool,
    ) -> Result<MembershipCheck, TenancyError> {
        let (tenant, _) = self.member_of(tenant_id, user_id).await?;
        let membership = members::get(&self.pool, tenant_id, user_id)
            .await?
            .ok_or(TenancyError::NotFound("tenant"))?;
        if let Some(minimum) = minimum {
            require_role(membership.role, minimum)?;
        }
        if require_usable {
            self.require_usable(&tenant)?;
        }
        let status = self.status_of(&tenant);
        Ok(MembershipCheck {
            membership,
            tenant,
            status,
        })
    }

    /// Members and pending invites (the `seats` usage).
    pub(crate) async fn count_members(&self, tenant_id: Uuid) -> Result<(i64, i64), TenancyError> {
        tenants::get(&self.pool, tenant_id)
            .await?
            .ok_or(TenancyError::NotFound("tenant"))?;
        let members = members::count(&self.pool, tenant_id).await?;
        let pending = invites::count_pending(&self.pool, tenant_id).await?;
        Ok((members, pending))
    }
}
