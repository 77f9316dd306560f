//! Invites: created in bulk, looked up by the hash of their code, accepted, revoked, expiring.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

/// An invite as stored.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct InviteRow {
    pub(crate) id: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) email: String,
    pub(crate) role: String,
    pub(crate) invited_by: Uuid,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) accepted_at: Option<DateTime<Utc>>,
    pub(crate) revoked_at: Option<DateTime<Utc>>,
}

/// SHA-256 of the code bound as `$5`, hex: codes are looked up by hash so a database leak leaks no
/// usable invite links.
const HASH: &str = "encode(sha256(convert_to($5, 'UTF8')), 'hex')";

const COLUMNS: &str =
    "id, tenant_id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at";

/// A new invite.
#[derive(Debug)]
pub(crate) struct NewInvite<'a> {
    pub(crate) tenant_id: Uuid,
    pub(crate) email: &'a str,
    pub(crate) role: &'a str,
    /// The secret code; only its SHA-256 is stored.
    pub(crate) code: &'a str,
    pub(crate) invited_by: Uuid,
    pub(crate) expires_at: DateTime<Utc>,
}

pub(crate) async fn insert(
    conn: &mut PgConnection,
    new: &NewInvite<'_>,
) -> Result<InviteRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "insert into invites (id, tenant_id, email, role, code_hash, invited_by, expires_at) \
         values ($1, $2, $3, $4, {HASH}, $6, $7) returning {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(new.tenant_id)
    .bind(new.email)
    .bind(new.role)
    .bind(new.code)
    .bind(new.invited_by)
    .bind(new.expires_at)
    .fetch_one(conn)
    .await
}

/// The open (not accepted, not revoked) invite for an email, expired or not.
pub(crate) async fn open_for_email(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    email: &str,
) -> Result<Option<InviteRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from invites where tenant_id = $1 and email = $2 \
         and accepted_at is null and revoked_at is null for update"
    ))
    .bind(tenant_id)
    .bind(email)
    .fetch_optional(conn)
    .await
}

/// Gives an open invite a new code (its email is sent again with the new link).
pub(crate) async fn rotate_code(
    conn: &mut PgConnection,
    id: Uuid,
    code: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update invites set code_hash = encode(sha256(convert_to($2, 'UTF8')), 'hex') where id = $1")
        .bind(id)
        .bind(code)
        .execute(conn)
        .await?;
    Ok(())
}

/// Closes an expired open invite so a fresh one can take its place.
pub(crate) async fn close_expired(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("update invites set revoked_at = now() where id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// An invite by its code (any state), optionally locked.
pub(crate) async fn by_code(
    executor: impl PgExecutor<'_>,
    code: &str,
    lock: bool,
) -> Result<Option<InviteRow>, sqlx::Error> {
    let suffix = if lock { " for update" } else { "" };
    sqlx::query_as(&format!(
        "select {COLUMNS} from invites where code_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex'){suffix}"
    ))
        .bind(code)
        .fetch_optional(executor)
        .await
}

pub(crate) async fn by_id(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<InviteRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from invites where tenant_id = $1 and id = $2 for update"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub(crate) async fn mark_accepted(
    conn: &mut PgConnection,
    id: Uuid,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("update invites set accepted_at = now(), accepted_by = $2 where id = $1")
        .bind(id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn mark_revoked(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<InviteRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "update invites set revoked_at = coalesce(revoked_at, now()) where id = $1 returning {COLUMNS}"
    ))
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Invites of a tenant, newest first; `state` is one of pending/accepted/revoked/expired or None.
pub(crate) async fn list(
    executor: impl PgExecutor<'_>,
    tenant_id: Uuid,
    state: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Vec<InviteRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from invites where tenant_id = $1 and ($2::text is null or $2 = case \
           when accepted_at is not null then 'accepted' when revoked_at is not null then 'revoked' \
           when expires_at <= now() then 'expired' else 'pending' end) \
         order by created_at desc, id desc offset $3 limit $4"
    ))
    .bind(tenant_id)
    .bind(state)
    .bind(offset)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// Pending, unexpired invites of a tenant.
pub(crate) async fn count_pending(
    executor: impl PgExecutor<'_>,
    tenant_id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select count(*) from invites where tenant_id = $1 and accepted_at is null \
         and revoked_at is null and expires_at > now()",
    )
    .bind(tenant_id)
    .fetch_one(executor)
    .await
}

/// Whether a member of the tenant already has this email is identity's knowledge, not ours; this
/// only tells whether the email was already accepted into the tenant through an invite.
pub(crate) async fn accepted_email(
    executor: impl PgExecutor<'_>,
    tenant_id: Uuid,
    email: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists(select 1 from invites i join memberships m \
           on m.tenant_id = i.tenant_id and m.user_id = i.accepted_by \
         where i.tenant_id = $1 and i.email = $2 and i.accepted_at is not null)",
    )
    .bind(tenant_id)
    .bind(email)
    .fetch_one(executor)
    .await
}
