//! The onboarding service's configuration. Field names are the lowercase environment variables
//! (`stripe_secret_key` <- `STRIPE_SECRET_KEY`); see [`onramp_kit::config`].

use std::time::Duration;

use anyhow::Context as _;
use onramp_kit::{
    config::{SecretString, Variables},
    service_config::ServiceConfig,
};
use serde::Deserialize;
use url::Url;

/// Everything the onboarding service needs to run.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Listen address, database and telemetry, shared by every service.
    #[serde(flatten)]
    pub base: ServiceConfig,
    /// `IDENTITY_SERVICE_ADDR`: identity, read for the `verify_email` step (any address
    /// `onramp_kit::grpc::client::channel` takes); default `http://127.0.0.1:50051`. Peers are
    /// reached lazily, so a wrong address shows as unknown steps and UNAVAILABLE membership checks.
    #[serde(default = "default_identity_addr")]
    pub identity_service_addr: String,
    /// `TENANT_PROVISIONING_SERVICE_ADDR`: tenancy, for membership checks and `invite_teammates`;
    /// default `http://127.0.0.1:50052`.
    #[serde(default = "default_tenancy_addr")]
    pub tenant_provisioning_service_addr: String,
    /// `BILLING_SERVICE_ADDR`: billing, read for the `choose_plan` step; default
    /// `http://127.0.0.1:50053`.
    #[serde(default = "default_billing_addr")]
    pub billing_service_addr: String,
    /// `CHECKLIST_PEER_TIMEOUT`: how long the checklist waits for each other context before showing
    /// its step as unknown; default `300ms`.
    #[serde(default = "default_peer_timeout", with = "humantime_serde")]
    pub checklist_peer_timeout: Duration,
    /// `CHECKLIST_CUSTOM_STEPS`: steps added after the built-in ones, as a JSON array of
    /// `{"id", "title", "description", "action_path", "required_keys"}`; the user completes them with
    /// custom data carrying the required keys. Default: none.
    #[serde(default)]
    pub checklist_custom_steps: Option<String>,
    /// `STRIPE_SECRET_KEY`: Stripe's secret key for Connect. Unset: Connect is off and its RPCs
    /// answer STRIPE_UNAVAILABLE (also in production, for adopters without Connect). Never logged.
    #[serde(default)]
    pub stripe_secret_key: Option<SecretString>,
    /// `STRIPE_API_BASE`: Stripe's API base URL (a Stripe-compatible fake in tests); default
    /// `https://api.stripe.com/`.
    #[serde(default = "default_stripe_api_base")]
    pub stripe_api_base: String,
    /// `STRIPE_TIMEOUT`: the longest one Stripe call may take; default `10s`.
    #[serde(default = "default_stripe_timeout", with = "humantime_serde")]
    pub stripe_timeout: Duration,
    /// `CONNECT_RETURN_URL`: where Stripe sends the browser back (`state=` is appended); default the
    /// web app's payouts page, `$APP_BASE_URL/settings/payouts?connect=return` (else on
    /// `http://localhost:8080`), which hands the state to `GET /v1/onboarding/connect/return` — a
    /// person lands on a page, not on JSON. None in production when Connect is on and
    /// `APP_BASE_URL` is unset.
    #[serde(default)]
    pub connect_return_url: Option<Url>,
    /// `CONNECT_REFRESH_URL`: the gateway's public refresh route (`?token=` is appended); default
    /// `$APP_BASE_URL/v1/onboarding/connect/refresh` (else on `http://localhost:8080`), none in
    /// production when Connect is on and `APP_BASE_URL` is unset.
    #[serde(default)]
    pub connect_refresh_url: Option<Url>,
    /// `CONNECT_TOKEN_TTL`: how long an onboarding token may be used; default `7d`.
    #[serde(default = "default_token_ttl", with = "humantime_serde")]
    pub connect_token_ttl: Duration,
    /// `CONNECT_STATE_TTL`: how long after a link is created its `state` may come back; default `30m`.
    #[serde(default = "default_state_ttl", with = "humantime_serde")]
    pub connect_state_ttl: Duration,
    /// `CONNECT_RETURN_READ_TIMEOUT`: how long the return redirect waits to read the account from
    /// Stripe before answering with the last known state; default `3s`.
    #[serde(default = "default_return_read_timeout", with = "humantime_serde")]
    pub connect_return_read_timeout: Duration,
    /// `SALES_NOTIFICATION_ADDRESS`: who gets an email per sales lead; default
    /// `sales@localhost`, none in production.
    #[serde(default)]
    pub sales_notification_address: Option<String>,
    /// `SALES_LEADS_PER_HOUR`: leads accepted per client IP per rolling hour; default 5.
    #[serde(default = "default_leads_per_hour")]
    pub sales_leads_per_hour: u32,
    /// `SMTP_URL` (secret: it may hold credentials), e.g. `smtp://user:pass@host:587?tls=required`.
    /// Unset: notifications stay queued in the outbox until a replica with SMTP sends them.
    /// Required in production. Never logged.
    #[serde(default)]
    pub smtp_url: Option<SecretString>,
    /// `MAIL_FROM`: the sender of notifications; default `Onramp <no-reply@localhost>`.
    #[serde(default = "onramp_kit::mail::smtp::default_mail_from")]
    pub mail_from: String,
    /// `MAIL_RELAY_INTERVAL`: how often the outbox relay looks for unsent email; default `1s`.
    #[serde(default = "default_mail_relay_interval", with = "humantime_serde")]
    pub mail_relay_interval: Duration,
}

onramp_kit::service_settings!(
    Config,
    crate::Application::NAME,
    Config::derived_from_app_base_url
);

impl Config {
    /// The defaults that follow from `APP_BASE_URL`: Stripe sends the browser back to the app's
    /// payouts page (return) and to the gateway's refresh route, which redirects to a new link.
    pub fn derived_from_app_base_url(app_base_url: &str) -> Variables {
        Variables::new([
            (
                "CONNECT_RETURN_URL",
                format!("{app_base_url}/settings/payouts?connect=return"),
            ),
            (
                "CONNECT_REFRESH_URL",
                format!("{app_base_url}/v1/onboarding/connect/refresh"),
            ),
        ])
    }

    /// The settings after defaults, refusing to default anything when `production` is true.
    pub(crate) fn resolve(&self, production: bool) -> anyhow::Result<Resolved> {
        // Without a Stripe key Connect is off (its calls answer STRIPE_UNAVAILABLE before any link
        // is made), so its URLs are only demanded in production when Connect is on.
        let connect_on = self.stripe_secret_key.is_some();
        let pick = |value: &Option<Url>, name: &str, dev: &str| -> anyhow::Result<Url> {
            match value {
                Some(url) => Ok(url.clone()),
                None if production && connect_on => {
                    anyhow::bail!("{name} must be set in production when STRIPE_SECRET_KEY is")
                }
                None => Url::parse(dev).context("default URL"),
            }
        };
        if production && !connect_on {
            tracing::warn!("STRIPE_SECRET_KEY unset: Stripe Connect onboarding is off");
        }
        if production && self.smtp_url.is_none() {
            anyhow::bail!("SMTP_URL must be set in production");
        }
        let sales = match &self.sales_notification_address {
            Some(address) => address.clone(),
            None if production => {
                anyhow::bail!("SALES_NOTIFICATION_ADDRESS must be set in production")
            }
            None => "sales@localhost".to_owned(),
        };
        Ok(Resolved {
            return_url: pick(
                &self.connect_return_url,
                "CONNECT_RETURN_URL",
                "http://localhost:8080/settings/payouts?connect=return",
            )?,
            refresh_url: pick(
                &self.connect_refresh_url,
                "CONNECT_REFRESH_URL",
                "http://localhost:8080/v1/onboarding/connect/refresh",
            )?,
            sales_notification_address: sales,
        })
    }
}

/// Settings whose development defaults were applied (or refused, in production).
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) return_url: Url,
    pub(crate) refresh_url: Url,
    pub(crate) sales_notification_address: String,
}

fn default_identity_addr() -> String {
    "http://127.0.0.1:50051".into()
}

fn default_tenancy_addr() -> String {
    "http://127.0.0.1:50052".into()
}

fn default_billing_addr() -> String {
    "http://127.0.0.1:50053".into()
}

fn default_peer_timeout() -> Duration {
    Duration::from_millis(300)
}

fn default_stripe_api_base() -> String {
    "https://api.stripe.com/".into()
}

fn default_stripe_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_token_ttl() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

fn default_state_ttl() -> Duration {
    Duration::from_secs(30 * 60)
}

fn default_return_read_timeout() -> Duration {
    Duration::from_secs(3)
}

fn default_leads_per_hour() -> u32 {
    5
}

fn default_mail_relay_interval() -> Duration {
    Duration::from_secs(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let base = ServiceConfig::new(([127, 0, 0, 1], 0).into(), "postgres://localhost/x");
        Config::new(base)
    }

    #[test]
    fn production_refuses_every_default_secret_and_url() {
        let error = config().resolve(true).expect_err("no SMTP in production");
        assert!(error.to_string().contains("SMTP_URL"), "{error}");
        let mut without_connect = config();
        without_connect.smtp_url = Some(SecretString::from("smtp://mail:25".to_owned()));
        without_connect.sales_notification_address = Some("sales@example.com".into());
        assert!(without_connect.resolve(true).is_ok(), "Connect may be off");
        let mut with_key = config();
        with_key.stripe_secret_key = Some(SecretString::from("sk_live_x".to_owned()));
        let error = with_key.resolve(true).expect_err("no SMTP in production");
        assert!(error.to_string().contains("SMTP_URL"), "{error}");
        with_key.smtp_url = Some(SecretString::from("smtp://mail:25".to_owned()));
        let error = with_key
            .resolve(true)
            .expect_err("no sales address in production");
        assert!(
            error.to_string().contains("SALES_NOTIFICATION_ADDRESS"),
            "{error}"
        );
        with_key.sales_notification_address = Some("sales@example.com".into());
        let error = with_key
            .resolve(true)
            .expect_err("no Connect URLs in production");
        assert!(error.to_string().contains("CONNECT_RETURN_URL"), "{error}");
        assert!(config().resolve(false).is_ok());
    }

    #[test]
    fn debug_output_never_shows_the_stripe_key() {
        let mut with_key = config();
        with_key.stripe_secret_key = Some(SecretString::from("sk_test_secret123".to_owned()));
        with_key.smtp_url = Some(SecretString::from("smtp://user:hunter2@mail:25".to_owned()));
        let printed = format!("{with_key:?}");
        assert!(!printed.contains("secret123") && !printed.contains("hunter2"));
    }
}
