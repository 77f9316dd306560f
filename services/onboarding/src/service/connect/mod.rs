//! Stripe Connect onboarding: the tenant's connected account (created once), onboarding tokens
//! (pending -> in_progress -> complete, and expired), account links, and applying Stripe's account
//! state. State changes only after the Stripe call they depend on has succeeded.

use std::time::Duration;

use chrono::{DateTime, SubsecRound as _, Utc};
use sqlx::PgPool;
use url::Url;
use uuid::Uuid;

mod apply;

use apply::TieError;

use crate::{
    domain::{
        connect::{AccountSnapshot, AccountStatus, Country, TokenStatus},
        secret::{self, Secret},
    },
    error::OnboardingError,
    store::connect::{self as store, AccountRow, TokenRow},
    stripe::{AccountLink, StripeConnect},
};

/// Connect settings beyond Stripe itself.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    /// Where Stripe sends the browser back (`?state=` is appended).
    pub return_url: Url,
    /// Where Stripe sends the browser when a link expired (`?token=` is appended).
    pub refresh_url: Url,
    /// How long a token may be used.
    pub token_ttl: Duration,
    /// How long a link's `state` may come back.
    pub state_ttl: Duration,
    /// How long the return redirect waits for a fresh read of the account.
    pub return_read_timeout: Duration,
}

/// What the start or a link refresh produced.
#[derive(Debug, Clone)]
pub struct Started {
    /// Stripe's link.
    pub link: AccountLink,
    /// The token after the change.
    pub token: TokenRow,
}

/// What the return redirect found.
#[derive(Debug, Clone)]
pub struct Returned {
    /// The token (in_progress, or complete when Stripe said so).
    pub token: TokenRow,
    /// The account after the best-effort read.
    pub account: AccountRow,
    /// Whether Stripe was read.
    pub refreshed: bool,
}

/// An `account.updated` event relayed by billing.
#[derive(Debug, Clone)]
pub struct AccountEvent {
    /// `evt_...`.
    pub event_id: String,
    /// The event's `created`.
    pub created: DateTime<Utc>,
    /// The account as the event carries it.
    pub account: AccountSnapshot,
}

/// What applying an event did.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The mirror changed (and maybe tokens completed).
    Applied(AccountRow, u64),
    /// The event id was seen before.
    Duplicate(AccountRow),
    /// Older than the mirror.
    Stale(AccountRow),
    /// No tenant has this account.
    UnknownAccount,
}

enum Tie {
    /// Same Stripe time, different content: the caller must re-read Stripe.
    Reread,
    /// The snapshot is authoritative (just read from Stripe).
    Overwrite,
}

/// The Connect use cases.
#[derive(Debug, Clone)]
pub struct Connect {
    pool: PgPool,
    stripe: StripeConnect,
    settings: ConnectSettings,
}

impl Connect {
    /// Wires the use cases to storage and Stripe.
    pub fn new(pool: PgPool, stripe: StripeConnect, settings: ConnectSettings) -> Self {
        Self {
            pool,
            stripe,
            settings,
        }
    }

    /// Creates the tenant's connected account unless it has one; returns it and whether it is new.
    pub async fn create_account(
        &self,
        tenant_id: Uuid,
        country: &Country,
    ) -> Result<(AccountRow, bool), OnboardingError> {
        if let Some(existing) = store::account_by_tenant(&self.pool, tenant_id).await? {
            return Ok((existing, false));
        }
        let account = self.stripe.create_account(tenant_id, country).await?;
        Ok(store::insert_account(&self.pool, tenant_id, &account, country.as_str()).await?)
    }

    /// The tenant's account and newest token.
    pub async fn account(
        &self,
        tenant_id: Uuid,
    ) -> Result<(AccountRow, Option<TokenRow>), OnboardingError> {
        let account = store::account_by_tenant(&self.pool, tenant_id)
            .await?
            .ok_or(OnboardingError::NotFound("connected account"))?;
        let token = store::latest_token(&self.pool, tenant_id).await?;
        Ok((account, token))
    }

    /// Whether the tenant's connected account is complete (`None`: no account).
    pub async fn is_complete(&self, tenant_id: Uuid) -> Result<Option<bool>, OnboardingError> {
        let account = store::account_by_tenant(&self.pool, tenant_id).await?;
        Ok(account.map(|a| a.status == AccountStatus::Complete.as_str()))
    }

    /// Issues a pending token; the tenant's older live tokens expire.
    pub async fn issue_token(
        &self,
        tenant_id: Uuid,
    ) -> Result<(Secret, TokenRow), OnboardingError> {
        let account = store::account_by_tenant(&self.pool, tenant_id)
            .await?
            .ok_or_else(|| OnboardingError::Conflict("no connected account yet".into()))?;
        if account.status == AccountStatus::Complete.as_str() {
            return Err(OnboardingError::Conflict(
                "the connected account is already complete".into(),
            ));
        }
        let token = Secret::generate();
        let row = store::issue_token(
            &self.pool,
            tenant_id,
            &token.hash(),
            ttl(self.settings.token_ttl)?,
        )
        .await?;
        Ok((token, row))
    }

    /// Starts onboarding with a pending token: Stripe's link first, then (only on success) the
    /// conditional pending -> in_progress that stores the new state.
    pub async fn start(&self, token: &str) -> Result<Started, OnboardingError> {
        let row = self.live_token(token).await?;
        match status(&row)? {
            TokenStatus::Pending => {}
            TokenStatus::InProgress => {
                return Err(OnboardingError::Conflict(
                    "onboarding already started with this token; use the refresh link".into(),
                ));
            }
            other => return Err(not_usable(other)),
        }
        let state = Secret::generate();
        let link = self.create_link(&row, token, &state).await?;
        let started = store::start_token(
            &self.pool,
            row.id,
            &state.hash(),
            ttl(self.settings.state_ttl)?,
        )
        .await?
        .ok_or_else(|| {
            OnboardingError::Conflict("another start of this token won; use its link".into())
        })?;
        Ok(Started {
            link,
            token: started,
        })
    }

    /// Issues a new link for an in_progress token (Stripe's refresh_url), replacing its state.
    pub async fn refresh_link(&self, token: &str) -> Result<Started, OnboardingError> {
        let row = self.live_token(token).await?;
        match status(&row)? {
            TokenStatus::InProgress => {}
            TokenStatus::Pending => {
                return Err(OnboardingError::Conflict(
                    "onboarding has not started with this token; use the start link".into(),
                ));
            }
            other => return Err(not_usable(other)),
        }
        let state = Secret::generate();
        let link = self.create_link(&row, token, &state).await?;
        let refreshed = store::replace_state(
            &self.pool,
            row.id,
            &state.hash(),
            ttl(self.settings.state_ttl)?,
        )
        .await?
        .ok_or_else(|| OnboardingError::Conflict("the token is no longer in progress".into()))?;
        Ok(Started {
            link,
            token: refreshed,
        })
    }

    /// Stripe's return redirect: consumes the single-use state, then reads the account (best effort).
    /// Nothing completes because the browser came back; only Stripe's account state can do that.
    pub async fn handle_return(&self, state: &str) -> Result<Returned, OnboardingError> {
        if state.is_empty() {
            return Err(OnboardingError::invalid("state", "is required"));
        }
        let token = store::consume_state(&self.pool, &secret::hash(state))
            .await?
            .ok_or_else(|| {
                OnboardingError::invalid("state", "is unknown, already used or expired")
            })?;
        let (account, _) = self.account(token.tenant_id).await?;
        let read = tokio::time::timeout(
            self.settings.return_read_timeout,
            self.stripe.retrieve_account(&account.stripe_account_id),
        )
        .await;
        let (account, refreshed) = match read {
            Ok(Ok(fresh)) => match self.apply(&fresh, now(), None, Tie::Overwrite).await? {
                Outcome::Applied(account, _) | Outcome::Stale(account) => (account, true),
                Outcome::Duplicate(account) => (account, false),
                Outcome::UnknownAccount => (account, false),
            },
            Ok(Err(error)) => {
                tracing::warn!(error = %error, "reading the account on return failed");
                (account, false)
            }
            Err(_) => (account, false),
        };
        let token = store::token_by_id(&self.pool, token.id)
            .await?
            .ok_or(OnboardingError::NotFound("onboarding token"))?;
        Ok(Returned {
            token,
            account,
            refreshed,
        })
    }

    /// Reads the tenant's account from Stripe and applies it.
    pub async fn refresh_account(
        &self,
        tenant_id: Uuid,
    ) -> Result<(AccountRow, u64), OnboardingError> {
        let (account, _) = self.account(tenant_id).await?;
        let fresh = self
            .stripe
            .retrieve_account(&account.stripe_account_id)
            .await?;
        match self.apply(&fresh, now(), None, Tie::Overwrite).await? {
            Outcome::Applied(account, completed) => Ok((account, completed)),
            Outcome::Stale(account) | Outcome::Duplicate(account) => Ok((account, 0)),
            Outcome::UnknownAccount => Err(OnboardingError::NotFound("connected account")),
        }
    }

    /// Applies a relayed `account.updated`, at most once per event id.
    pub async fn apply_event(&self, event: &AccountEvent) -> Result<Outcome, OnboardingError> {
        let outcome = self
            .apply(
                &event.account,
                event.created,
                Some(&event.event_id),
                Tie::Reread,
            )
            .await;
        match outcome {
            Err(TieError::Reread) => {
                // Same Stripe second, different content: only Stripe knows which is newer.
                let fresh = self
                    .stripe
                    .retrieve_account(&event.account.stripe_account_id)
                    .await?;
                self.apply(&fresh, event.created, Some(&event.event_id), Tie::Overwrite)
                    .await
                    .map_err(TieError::into_error)
            }
            other => other.map_err(TieError::into_error),
        }
    }
}

impl Connect {
    /// The token for a presented secret (expiry applied).
    async fn live_token(&self, token: &str) -> Result<TokenRow, OnboardingError> {
        if token.is_empty() {
            return Err(OnboardingError::invalid("token", "is required"));
        }
        store::token_by_hash(&self.pool, &secret::hash(token))
            .await?
            .ok_or(OnboardingError::NotFound("onboarding token"))
    }

    async fn create_link(
        &self,
        row: &TokenRow,
        token: &str,
        state: &Secret,
    ) -> Result<AccountLink, OnboardingError> {
        let (account, _) = self.account(row.tenant_id).await?;
        let mut refresh = self.settings.refresh_url.clone();
        refresh.query_pairs_mut().append_pair("token", token);
        let mut back = self.settings.return_url.clone();
        back.query_pairs_mut().append_pair("state", state.expose());
        self.stripe
            .create_link(&account.stripe_account_id, refresh.as_str(), back.as_str())
            .await
    }
}

fn status(row: &TokenRow) -> Result<TokenStatus, OnboardingError> {
    TokenStatus::from_db(&row.status).ok_or_else(|| {
        OnboardingError::Unexpected(anyhow::anyhow!("unknown token status {}", row.status))
    })
}

fn not_usable(status: TokenStatus) -> OnboardingError {
    OnboardingError::Conflict(match status {
        TokenStatus::Complete => "onboarding with this token is already complete".into(),
        _ => "this onboarding token has expired; ask for a new one".into(),
    })
}

fn ttl(duration: Duration) -> Result<chrono::Duration, OnboardingError> {
    chrono::Duration::from_std(duration).map_err(|error| OnboardingError::Unexpected(error.into()))
}

/// Now, at the database's precision, so versions compare equal after a round trip.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
