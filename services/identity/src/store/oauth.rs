//! OAuth states (logins in progress) and linked provider identities.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

/// A login in progress.
#[derive(Debug, Clone)]
pub(crate) struct NewState<'a> {
    pub(crate) state_hash: &'a [u8],
    pub(crate) provider_id: &'a str,
    pub(crate) binding_hash: &'a [u8],
    pub(crate) pkce_verifier: &'a str,
    pub(crate) nonce: &'a str,
    pub(crate) redirect_uri: &'a str,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) expires_at: DateTime<Utc>,
}

/// A stored state, locked.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct StateRow {
    pub(crate) provider_id: String,
    pub(crate) binding_hash: Vec<u8>,
    pub(crate) pkce_verifier: String,
    pub(crate) nonce: String,
    pub(crate) redirect_uri: String,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) used_at: Option<DateTime<Utc>>,
}

pub(crate) async fn insert_state(
    conn: &mut PgConnection,
    state: &NewState<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into oauth_states (state_hash, provider_id, binding_hash, pkce_verifier, nonce,
                                   redirect_uri, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(state.state_hash)
    .bind(state.provider_id)
    .bind(state.binding_hash)
    .bind(state.pkce_verifier)
    .bind(state.nonce)
    .bind(state.redirect_uri)
    .bind(state.created_at)
    .bind(state.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The state with this hash, locked for the rest of the transaction.
pub(crate) async fn state_for_update(
    conn: &mut PgConnection,
    state_hash: &[u8],
) -> sqlx::Result<Option<StateRow>> {
    sqlx::query_as(
        "select provider_id, binding_hash, pkce_verifier, nonce, redirect_uri, expires_at, used_at
         from oauth_states where state_hash = $1 for update",
    )
    .bind(state_hash)
    .fetch_optional(conn)
    .await
}

/// Marks a state used (it is single use).
pub(crate) async fn mark_state_used(
    conn: &mut PgConnection,
    state_hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("update oauth_states set used_at = $2 where state_hash = $1")
        .bind(state_hash)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// The user linked to this provider account.
pub(crate) async fn linked_user(
    conn: &mut PgConnection,
    provider_id: &str,
    subject: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "select user_id from oauth_identities where provider_id = $1 and subject = $2",
    )
    .bind(provider_id)
    .bind(subject)
    .fetch_optional(conn)
    .await
}

/// Links (or refreshes the link of) a provider account; a new refresh token replaces the old one.
pub(crate) async fn upsert_identity(
    conn: &mut PgConnection,
    provider_id: &str,
    subject: &str,
    user_id: Uuid,
    email: &str,
    refresh_token_encrypted: Option<&[u8]>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into oauth_identities (provider_id, subject, user_id, email, refresh_token_encrypted,
                                       created_at, last_login_at)
         values ($1, $2, $3, $4, $5, $6, $6)
         on conflict (provider_id, subject) do update set
             email = excluded.email,
             refresh_token_encrypted = coalesce(excluded.refresh_token_encrypted,
                                                oauth_identities.refresh_token_encrypted),
             last_login_at = excluded.last_login_at",
    )
    .bind(provider_id)
    .bind(subject)
    .bind(user_id)
    .bind(email)
    .bind(refresh_token_encrypted)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The provider ids linked to a user.
pub(crate) async fn providers_of(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "select provider_id from oauth_identities where user_id = $1 order by created_at",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// A new OAuth-only user (no password).
#[derive(Debug)]
pub(crate) struct NewOauthUser<'a> {
    pub(crate) id: Uuid,
    pub(crate) email: &'a str,
    pub(crate) display_name: &'a str,
    pub(crate) verified_at: Option<DateTime<Utc>>,
    pub(crate) grace_ends_at: Option<DateTime<Utc>>,
    pub(crate) now: DateTime<Utc>,
}

/// Inserts an OAuth-only user; `false` if the email was taken meanwhile.
pub(crate) async fn insert_user(
    conn: &mut PgConnection,
    user: &NewOauthUser<'_>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "insert into users (id, email, display_name, email_verified_at, verification_grace_ends_at, created_at)
         values ($1, $2, $3, $4, $5, $6) on conflict (email) do nothing",
    )
    .bind(user.id)
    .bind(user.email)
    .bind(user.display_name)
    .bind(user.verified_at)
    .bind(user.grace_ends_at)
    .bind(user.now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A provider account linked to a user, as its owner is shown it.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct LinkedIdentity {
    pub(crate) provider_id: String,
    /// The address the provider gave at the last login.
    pub(crate) email: Option<String>,
}

/// Every provider account linked to a user, oldest link first.
pub(crate) async fn identities_of(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> sqlx::Result<Vec<LinkedIdentity>> {
    sqlx::query_as(
        "select provider_id, email from oauth_identities where user_id = $1 order by created_at",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// Removes the user's links to these providers; how many provider accounts were unlinked.
pub(crate) async fn unlink(
    conn: &mut PgConnection,
    user_id: Uuid,
    provider_ids: &[String],
) -> sqlx::Result<u64> {
    let done =
        sqlx::query("delete from oauth_identities where user_id = $1 and provider_id = any($2)")
            .bind(user_id)
            .bind(provider_ids)
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}
