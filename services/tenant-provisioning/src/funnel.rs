//! Tenancy's funnel facts as product events (`onramp_kit::product_events`), each recorded in the
//! transaction that commits the fact: workspaces created and activated, invites sent and accepted.
//! Properties are ids, roles and states only, never an invitee's email.

use onramp_kit::product_events::{ProductEvent, emit, names};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{lifecycle::TenantState, role::Role};

/// `owner` provisioned `tenant` in `state`, asking for `plan` (a plan id or code; empty: none).
pub(crate) async fn workspace_created(
    conn: &mut PgConnection,
    owner: Uuid,
    tenant: Uuid,
    plan: &str,
    state: TenantState,
) -> sqlx::Result<()> {
    let mut event = ProductEvent::new(names::WORKSPACE_CREATED, owner)
        .with("tenant_id", tenant)
        .with("state", state.as_str());
    if !plan.is_empty() {
        event = event.with("plan", plan);
    }
    emit(conn, &event).await.map(drop)
}

/// `tenant` left `pending_payment` for `active` (billing confirmed the payment). The event goes to
/// the workspace's first owner, who provisioned it; once per workspace.
pub(crate) async fn workspace_activated(conn: &mut PgConnection, tenant: Uuid) -> sqlx::Result<()> {
    let owner: Option<Uuid> = sqlx::query_scalar(
        "select user_id from memberships where tenant_id = $1 and role = 'owner'
         order by joined_at limit 1",
    )
    .bind(tenant)
    .fetch_optional(&mut *conn)
    .await?;
    // A workspace always has an owner; should it have none, the workspace stands for its user.
    let distinct_id = owner.map_or_else(|| format!("tenant:{tenant}"), |owner| owner.to_string());
    let event = ProductEvent::new(names::WORKSPACE_ACTIVATED, distinct_id)
        .with("tenant_id", tenant)
        .once(tenant);
    emit(conn, &event).await.map(drop)
}

/// `inviter` invited someone to `tenant` as `role` (a new invite, not a resend).
pub(crate) async fn invite_sent(
    conn: &mut PgConnection,
    inviter: Uuid,
    tenant: Uuid,
    invite: Uuid,
    role: Role,
) -> sqlx::Result<()> {
    let event = ProductEvent::new(names::INVITE_SENT, inviter)
        .with("tenant_id", tenant)
        .with("invite_id", invite)
        .with("role", role.as_str());
    emit(conn, &event).await.map(drop)
}

/// `user` accepted `invite` into `tenant` (once per invite).
pub(crate) async fn invite_accepted(
    conn: &mut PgConnection,
    user: Uuid,
    tenant: Uuid,
    invite: Uuid,
    already_member: bool,
) -> sqlx::Result<()> {
    let event = ProductEvent::new(names::INVITE_ACCEPTED, user)
        .with("tenant_id", tenant)
        .with("invite_id", invite)
        .with("already_member", already_member)
        .once(invite);
    emit(conn, &event).await.map(drop)
}
