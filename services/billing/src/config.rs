//! The billing service's configuration: the shared part plus the provider, Stripe and trial settings.

use std::time::Duration;

use onramp_kit::{
    config::{SecretString, Variables},
    service_config::ServiceConfig,
};
use serde::{Deserialize, Deserializer};

/// Which payment provider billing runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Stripe, or any Stripe-compatible server at `stripe_api_base`.
    Stripe,
    /// No payment provider: trials and complimentary/free plans without a card.
    Manual,
}

/// The billing service's configuration (environment variables; see the README).
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Listen address, database and telemetry, shared by every service.
    #[serde(flatten)]
    pub base: ServiceConfig,
    /// `BILLING_PROVIDER`: `stripe` or `manual`. Unset: `stripe` when `STRIPE_SECRET_KEY` is set, else
    /// `manual`. Must be set explicitly when `ONRAMP_ENV=production`.
    #[serde(default)]
    pub billing_provider: Option<ProviderKind>,
    /// `STRIPE_SECRET_KEY` (secret): the API key for Stripe calls. No default.
    #[serde(default)]
    pub stripe_secret_key: Option<SecretString>,
    /// `STRIPE_WEBHOOK_SECRETS` (secret): comma-separated `whsec_...` signing secrets of the account
    /// endpoint; several while a secret is being rotated (a delivery matching any one is accepted).
    #[serde(default, deserialize_with = "secret_list")]
    pub stripe_webhook_secrets: Vec<SecretString>,
    /// `STRIPE_CONNECT_WEBHOOK_SECRETS` (secret): the same for the Connect endpoint.
    #[serde(default, deserialize_with = "secret_list")]
    pub stripe_connect_webhook_secrets: Vec<SecretString>,
    /// `STRIPE_API_BASE`: where Stripe calls go; default `https://api.stripe.com` (tests point it at a
    /// fake).
    #[serde(default = "default_stripe_api_base")]
    pub stripe_api_base: String,
    /// `BILLING_APP_URL`: the browser app's base URL; Checkout and portal return URLs must start with it
    /// and default to pages under it. Default `APP_BASE_URL`, else `http://localhost:8080`.
    #[serde(default = "default_app_url")]
    pub billing_app_url: String,
    /// `TRIAL_WARNING_DAYS`: the pill turns `warning` when this many days or fewer are left; default 7.
    #[serde(default = "default_warning_days")]
    pub trial_warning_days: u32,
    /// `TRIAL_URGENT_DAYS`: the pill turns `urgent` when this many days or fewer are left; default 2.
    #[serde(default = "default_urgent_days")]
    pub trial_urgent_days: u32,
    /// `BILLING_OPERATOR_USER_IDS`: comma-separated user ids allowed to call the admin RPCs (catalog
    /// write, replay, reconcile, complimentary grants). Default: nobody.
    #[serde(default, deserialize_with = "onramp_kit::config::comma_separated")]
    pub billing_operator_user_ids: Vec<String>,
    /// `BILLING_DEFAULT_PLAN`: the plan (code or id) EnsureEntitlement starts when provisioning names
    /// none. Unset: the tenant starts without a plan and chooses one.
    #[serde(default)]
    pub billing_default_plan: Option<String>,
    /// `TENANT_PROVISIONING_SERVICE_ADDR`: where the outbox relay sends lifecycle events. Unset: events
    /// stay in the outbox until a relay with an address runs.
    #[serde(default)]
    pub tenant_provisioning_service_addr: Option<String>,
    /// `ONBOARDING_SERVICE_ADDR`: where `account.updated` events are relayed. Unset: as above.
    #[serde(default)]
    pub onboarding_service_addr: Option<String>,
    /// `RECONCILE_INTERVAL`: how often reconciliation runs on its own (stripe provider); `0s` turns it
    /// off. Default 1h.
    #[serde(default = "default_reconcile_interval", with = "humantime_serde")]
    pub reconcile_interval: Duration,
    /// `RECONCILE_ORPHAN_GRACE`: an entitlement unchanged for this long whose tenant tenancy does not
    /// know is reported by reconciliation as an orphan (EnsureEntitlement runs before tenancy commits,
    /// so a younger one may still be mid-provisioning). Default 10m.
    #[serde(default = "default_orphan_grace", with = "humantime_serde")]
    pub reconcile_orphan_grace: Duration,
    /// `EXPIRY_SWEEP_INTERVAL`: how often ended card-less trials and complimentary grants are closed
    /// (tenancy is told through the outbox). Default 1m.
    #[serde(default = "default_expiry_sweep_interval", with = "humantime_serde")]
    pub expiry_sweep_interval: Duration,
    /// `OUTBOX_POLL_INTERVAL`: how often the relay looks for due outbox rows; default 500ms.
    #[serde(default = "default_poll_interval", with = "humantime_serde")]
    pub outbox_poll_interval: Duration,
    /// `OUTBOX_MAX_BACKOFF`: the longest wait between two attempts of one outbox row; default 5m.
    #[serde(default = "default_max_backoff", with = "humantime_serde")]
    pub outbox_max_backoff: Duration,
}

onramp_kit::service_settings!(
    Config,
    crate::Application::NAME,
    Config::derived_from_app_base_url
);

impl Config {
    /// The defaults that follow from `APP_BASE_URL`: the return-URL prefix is the app itself.
    pub fn derived_from_app_base_url(app_base_url: &str) -> Variables {
        Variables::new([("BILLING_APP_URL", app_base_url)])
    }

    /// The provider in effect, refusing to guess in production.
    pub fn provider(&self) -> anyhow::Result<ProviderKind> {
        match self.billing_provider {
            Some(ProviderKind::Stripe) if self.stripe_secret_key.is_none() => {
                anyhow::bail!("BILLING_PROVIDER=stripe needs STRIPE_SECRET_KEY")
            }
            Some(kind) => Ok(kind),
            None if onramp_kit::config::is_production() => {
                anyhow::bail!("BILLING_PROVIDER must be set when ONRAMP_ENV=production")
            }
            None if self.stripe_secret_key.is_some() => Ok(ProviderKind::Stripe),
            None => Ok(ProviderKind::Manual),
        }
    }
}

/// Accepts a comma-separated string (the environment) or a list (TOML).
fn secret_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<SecretString>, D::Error> {
    Ok(onramp_kit::config::comma_separated(deserializer)?
        .into_iter()
        .map(SecretString::from)
        .collect())
}

fn default_stripe_api_base() -> String {
    "https://api.stripe.com".to_owned()
}

fn default_app_url() -> String {
    "http://localhost:8080".to_owned()
}

fn default_warning_days() -> u32 {
    7
}

fn default_urgent_days() -> u32 {
    2
}

fn default_reconcile_interval() -> Duration {
    Duration::from_secs(3600)
}

fn default_orphan_grace() -> Duration {
    Duration::from_secs(600)
}

fn default_expiry_sweep_interval() -> Duration {
    Duration::from_secs(60)
}

fn default_poll_interval() -> Duration {
    Duration::from_millis(500)
}

fn default_max_backoff() -> Duration {
    Duration::from_secs(300)
}
