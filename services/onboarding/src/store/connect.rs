//! Connected accounts, applied account events and onboarding tokens.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgPool, Postgres, postgres::PgArguments, query::QueryAs};
use uuid::Uuid;

use crate::domain::connect::{AccountSnapshot, AccountStatus};

/// A stored connected account.
#[derive(Debug, Clone, FromRow)]
pub struct AccountRow {
    pub tenant_id: Uuid,
    pub stripe_account_id: String,
    pub country: String,
    pub details_submitted: bool,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub requirements_currently_due: Vec<String>,
    pub requirements_past_due: Vec<String>,
    pub requirements_pending_verification: Vec<String>,
    pub disabled_reason: String,
    pub status: String,
    pub stripe_state_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl AccountRow {
    /// The mirrored Stripe state, comparable with a fresh snapshot.
    pub fn snapshot(&self) -> AccountSnapshot {
        AccountSnapshot {
            stripe_account_id: self.stripe_account_id.clone(),
            country: self.country.clone(),
            details_submitted: self.details_submitted,
            charges_enabled: self.charges_enabled,
            payouts_enabled: self.payouts_enabled,
            currently_due: self.requirements_currently_due.clone(),
            past_due: self.requirements_past_due.clone(),
            pending_verification: self.requirements_pending_verification.clone(),
            disabled_reason: self.disabled_reason.clone(),
        }
    }
}

/// A stored onboarding token (never the secret itself).
#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub state_expires_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

const TOKEN_COLUMNS: &str =
    "id, tenant_id, status, created_at, expires_at, state_expires_at, completed_at";

/// Stores a newly created account unless the tenant has one already; returns the tenant's account
/// and whether this call stored it.
pub async fn insert_account(
    pool: &PgPool,
    tenant_id: Uuid,
    account: &AccountSnapshot,
    country: &str,
) -> Result<(AccountRow, bool), sqlx::Error> {
    let insert = sqlx::query_as(
        "insert into connected_accounts (tenant_id, stripe_account_id, country, details_submitted,
            charges_enabled, payouts_enabled, requirements_currently_due, requirements_past_due,
            requirements_pending_verification, disabled_reason, status, stripe_state_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())
         on conflict (tenant_id) do nothing
         returning *",
    )
    .bind(tenant_id)
    .bind(&account.stripe_account_id)
    .bind(country);
    let inserted = bind_state(insert, account).fetch_optional(pool).await?;
    match inserted {
        Some(row) => Ok((row, true)),
        None => {
            let existing = account_by_tenant(pool, tenant_id).await?;
            existing
                .map(|row| (row, false))
                .ok_or(sqlx::Error::RowNotFound)
        }
    }
}

/// The tenant's account, if any.
pub async fn account_by_tenant(
    pool: &PgPool,
    tenant_id: Uuid,
) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as("select * from connected_accounts where tenant_id = $1")
        .bind(tenant_id)
        .fetch_optional(pool)
        .await
}

/// The account with this Stripe id, locked for the rest of the transaction.
pub async fn lock_account_by_stripe_id(
    conn: &mut PgConnection,
    stripe_account_id: &str,
) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as("select * from connected_accounts where stripe_account_id = $1 for update")
        .bind(stripe_account_id)
        .fetch_optional(conn)
        .await
}

/// Claims an event id; false when it was applied before.
pub async fn claim_event(
    conn: &mut PgConnection,
    event_id: &str,
    stripe_account_id: &str,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query(
        "insert into connect_events (event_id, stripe_account_id) values ($1, $2)
         on conflict (event_id) do nothing",
    )
    .bind(event_id)
    .bind(stripe_account_id)
    .execute(conn)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Overwrites the mirrored state with `account` as of `at`.
pub async fn update_account(
    conn: &mut PgConnection,
    account: &AccountSnapshot,
    at: DateTime<Utc>,
) -> Result<AccountRow, sqlx::Error> {
    let update = sqlx::query_as(
        "update connected_accounts set details_submitted = $2, charges_enabled = $3,
            payouts_enabled = $4, requirements_currently_due = $5, requirements_past_due = $6,
            requirements_pending_verification = $7, disabled_reason = $8, status = $9,
            stripe_state_at = $10
         where stripe_account_id = $1
         returning *",
    )
    .bind(&account.stripe_account_id);
    bind_state(update, account).bind(at).fetch_one(conn).await
}

/// Binds Stripe's account state, in the column order both writes use (`details_submitted` …
/// `status`).
fn bind_state<'q>(
    query: QueryAs<'q, Postgres, AccountRow, PgArguments>,
    account: &'q AccountSnapshot,
) -> QueryAs<'q, Postgres, AccountRow, PgArguments> {
    query
        .bind(account.details_submitted)
        .bind(account.charges_enabled)
        .bind(account.payouts_enabled)
        .bind(&account.currently_due)
        .bind(&account.past_due)
        .bind(&account.pending_verification)
        .bind(&account.disabled_reason)
        .bind(AccountStatus::of(account).as_str())
}

/// Completes the tenant's in_progress tokens (only called when Stripe says requirements are met).
pub async fn complete_tokens(conn: &mut PgConnection, tenant_id: Uuid) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "update onboarding_tokens set status = 'complete', completed_at = now()
         where tenant_id = $1 and status = 'in_progress' and expires_at > now()",
    )
    .bind(tenant_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Issues a pending token; the tenant's earlier pending or in_progress tokens expire with it.
pub async fn issue_token(
    pool: &PgPool,
    tenant_id: Uuid,
    token_hash: &[u8],
    valid_for: chrono::Duration,
) -> Result<TokenRow, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "update onboarding_tokens set status = 'expired'
         where tenant_id = $1 and status in ('pending', 'in_progress')",
    )
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query_as(&format!(
        "insert into onboarding_tokens (id, tenant_id, token_hash, status, expires_at)
         values ($1, $2, $3, 'pending', now() + $4)
         returning {TOKEN_COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(tenant_id)
    .bind(token_hash)
    .bind(valid_for)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// The token with this secret hash, with a passed expiry applied first (so readers never see a
/// stale pending/in_progress).
pub async fn token_by_hash(
    pool: &PgPool,
    token_hash: &[u8],
) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query(
        "update onboarding_tokens set status = 'expired'
         where token_hash = $1 and status in ('pending', 'in_progress') and expires_at <= now()",
    )
    .bind(token_hash)
    .execute(pool)
    .await?;
    sqlx::query_as(&format!(
        "select {TOKEN_COLUMNS} from onboarding_tokens where token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

/// The tenant's newest token.
pub async fn latest_token(pool: &PgPool, tenant_id: Uuid) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {TOKEN_COLUMNS} from onboarding_tokens where tenant_id = $1
         order by created_at desc, id desc limit 1"
    ))
    .bind(tenant_id)
    .fetch_optional(pool)
    .await
}

/// pending -> in_progress with a fresh state and its expiry, in one conditional statement: of two
/// concurrent starts exactly one gets a row back.
pub async fn start_token(
    pool: &PgPool,
    id: Uuid,
    state_hash: &[u8],
    state_valid_for: chrono::Duration,
) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "update onboarding_tokens
         set status = 'in_progress', state_hash = $2, state_expires_at = now() + $3,
             state_used_at = null
         where id = $1 and status = 'pending' and expires_at > now()
         returning {TOKEN_COLUMNS}"
    ))
    .bind(id)
    .bind(state_hash)
    .bind(state_valid_for)
    .fetch_optional(pool)
    .await
}

/// Replaces an in_progress token's state (a new link was issued).
pub async fn replace_state(
    pool: &PgPool,
    id: Uuid,
    state_hash: &[u8],
    state_valid_for: chrono::Duration,
) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "update onboarding_tokens
         set state_hash = $2, state_expires_at = now() + $3, state_used_at = null
         where id = $1 and status = 'in_progress' and expires_at > now()
         returning {TOKEN_COLUMNS}"
    ))
    .bind(id)
    .bind(state_hash)
    .bind(state_valid_for)
    .fetch_optional(pool)
    .await
}

/// Consumes a single-use state: only an unused, unexpired state of a live token matches, once.
pub async fn consume_state(
    pool: &PgPool,
    state_hash: &[u8],
) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "update onboarding_tokens set state_used_at = now()
         where state_hash = $1 and state_used_at is null and state_expires_at > now()
           and status in ('in_progress', 'complete')
         returning {TOKEN_COLUMNS}"
    ))
    .bind(state_hash)
    .fetch_optional(pool)
    .await
}

/// A token by id.
pub async fn token_by_id(pool: &PgPool, id: Uuid) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {TOKEN_COLUMNS} from onboarding_tokens where id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}
