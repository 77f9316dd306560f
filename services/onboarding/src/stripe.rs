//! Stripe Connect calls through `async-stripe`: create an Express account (idempotently), create an
//! onboarding account link, read an account. Every failure is [`OnboardingError::Stripe`].

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use onramp_kit::config::{ExposeSecret as _, SecretString};
use stripe::{IdempotencyKey, RequestStrategy, StripeRequest as _};
use stripe_connect::{
    Account,
    account::{CreateAccount, CreateAccountType, RetrieveAccount},
    account_link::{CreateAccountLink, CreateAccountLinkType},
};
use uuid::Uuid;

use crate::{
    domain::connect::{AccountSnapshot, Country},
    error::OnboardingError,
};

/// Where Stripe is and how to reach it.
#[derive(Debug, Clone)]
pub struct StripeSettings {
    /// The secret API key; `None` leaves Connect unconfigured (its RPCs answer STRIPE_UNAVAILABLE).
    pub secret_key: Option<SecretString>,
    /// Stripe's API base URL (a Stripe-compatible fake in tests).
    pub api_base: String,
    /// The longest a single Stripe call may take.
    pub timeout: Duration,
}

/// A freshly created account link.
#[derive(Debug, Clone)]
pub struct AccountLink {
    /// Where to send the browser.
    pub url: String,
    /// When Stripe stops accepting it.
    pub expires_at: DateTime<Utc>,
}

/// The Stripe client for Connect.
#[derive(Clone)]
pub struct StripeConnect {
    client: Option<stripe::Client>,
}

impl std::fmt::Debug for StripeConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client holds the secret key; never print it.
        f.debug_struct("StripeConnect")
            .field("configured", &self.client.is_some())
            .finish()
    }
}

impl StripeConnect {
    /// Builds the client (no network I/O).
    pub fn new(settings: &StripeSettings) -> anyhow::Result<Self> {
        let client = match &settings.secret_key {
            None => None,
            Some(key) => Some(
                stripe::ClientBuilder::new(key.expose_secret())
                    .url(settings.api_base.clone())
                    .timeout(settings.timeout)
                    // Retries are the caller's decision (the token stays retryable), not the SDK's.
                    .request_strategy(RequestStrategy::Once)
                    .build()
                    .context("building the Stripe client")?,
            ),
        };
        Ok(Self { client })
    }

    fn client(&self) -> Result<&stripe::Client, OnboardingError> {
        self.client
            .as_ref()
            .ok_or_else(|| OnboardingError::Stripe(anyhow!("no Stripe secret key is configured")))
    }

    /// Creates the tenant's Express account. The idempotency key is derived from the tenant id, so a
    /// retry after a lost response (or a concurrent twin) gets the same account back from Stripe.
    pub async fn create_account(
        &self,
        tenant_id: Uuid,
        country: &Country,
    ) -> Result<AccountSnapshot, OnboardingError> {
        let key = IdempotencyKey::new(format!("onramp-connect-account-{tenant_id}"))
            .map_err(|error| OnboardingError::Unexpected(error.into()))?;
        let account = CreateAccount::new()
            .type_(CreateAccountType::Express)
            .country(country.as_str())
            .metadata([("onramp_tenant_id".to_owned(), tenant_id.to_string())])
            .customize()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(self.client()?)
            .await
            .map_err(|error| OnboardingError::Stripe(error.into()))?;
        Ok(snapshot(account))
    }

    /// Creates an `account_onboarding` link for `account`.
    pub async fn create_link(
        &self,
        account: &str,
        refresh_url: &str,
        return_url: &str,
    ) -> Result<AccountLink, OnboardingError> {
        let link = CreateAccountLink::new(account, CreateAccountLinkType::AccountOnboarding)
            .refresh_url(refresh_url)
            .return_url(return_url)
            .send(self.client()?)
            .await
            .map_err(|error| OnboardingError::Stripe(error.into()))?;
        let expires_at = DateTime::from_timestamp(link.expires_at, 0)
            .ok_or_else(|| OnboardingError::Stripe(anyhow!("account link expiry out of range")))?;
        Ok(AccountLink {
            url: link.url,
            expires_at,
        })
    }

    /// Reads `account` as Stripe has it now.
    pub async fn retrieve_account(
        &self,
        account: &str,
    ) -> Result<AccountSnapshot, OnboardingError> {
        let account = RetrieveAccount::new(account)
            .send(self.client()?)
            .await
            .map_err(|error| OnboardingError::Stripe(error.into()))?;
        Ok(snapshot(account))
    }
}

fn snapshot(account: Account) -> AccountSnapshot {
    let requirements = account.requirements;
    let list = |pick: fn(&stripe_connect::AccountRequirements) -> &Option<Vec<String>>| {
        requirements
            .as_ref()
            .and_then(|r| pick(r).clone())
            .unwrap_or_default()
    };
    AccountSnapshot {
        stripe_account_id: account.id.to_string(),
        country: account.country.unwrap_or_default(),
        details_submitted: account.details_submitted.unwrap_or(false),
        charges_enabled: account.charges_enabled.unwrap_or(false),
        payouts_enabled: account.payouts_enabled.unwrap_or(false),
        currently_due: list(|r| &r.currently_due),
        past_due: list(|r| &r.past_due),
        pending_verification: list(|r| &r.pending_verification),
        disabled_reason: requirements
            .as_ref()
            .and_then(|r| r.disabled_reason.as_ref())
            .map(|reason| reason.as_str().to_owned())
            .unwrap_or_default(),
    }
}
