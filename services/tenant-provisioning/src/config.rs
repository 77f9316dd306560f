//! The tenant-provisioning service's configuration (environment variables; see the README).

use std::{path::PathBuf, time::Duration};

use anyhow::Context as _;
use onramp_kit::{
    config::{SecretString, Variables},
    mail::smtp::SmtpSettings,
    service_config::ServiceConfig,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::{
    lifecycle::TenantState,
    template::{DEFAULT_TEMPLATE, StarterTemplate},
};

/// The state new tenants start in when no billing service is configured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StandaloneState {
    /// Usable at once (a deployment with nothing to pay for).
    #[default]
    Active,
    /// Waiting for an `ApplyBillingEvent` ACTIVATE from whatever stands in for billing.
    PendingPayment,
}

/// Everything the service needs to run.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Listen address, database and telemetry, shared by every service.
    #[serde(flatten)]
    pub base: ServiceConfig,
    /// `BILLING_SERVICE_ADDR`: billing (`http://billing:50051`), asked at provisioning whether the
    /// plan is active yet. Unset: no billing; new tenants start in `standalone_initial_state`.
    #[serde(default)]
    pub billing_service_addr: Option<String>,
    /// `IDENTITY_SERVICE_ADDR`: identity, for members' emails and the invitee's verified email.
    /// Unset: accepting invites answers UNAVAILABLE (no email can be checked).
    #[serde(default)]
    pub identity_service_addr: Option<String>,
    /// `STANDALONE_INITIAL_STATE`: `active` (default) or `pending_payment`; only used without billing.
    #[serde(default)]
    pub standalone_initial_state: StandaloneState,
    /// `STANDALONE_SEAT_LIMIT`: members plus pending invites allowed per tenant without billing;
    /// unset means unlimited. (With billing, its `seats` limit applies.)
    #[serde(default)]
    pub standalone_seat_limit: Option<u32>,
    /// `PAYMENT_RETRY_AFTER`: the Retry-After hint while a tenant waits for payment; default `2s`.
    #[serde(default = "default_payment_retry_after", with = "humantime_serde")]
    pub payment_retry_after: Duration,
    /// `INVITE_VALIDITY`: how long an invite can be accepted; default `7days`.
    #[serde(default = "default_invite_validity", with = "humantime_serde")]
    pub invite_validity: Duration,
    /// `INVITE_LINK_BASE`: invite links are this followed by the code; default
    /// `$APP_BASE_URL/invites/`, else `http://localhost:8080/invites/`.
    #[serde(default = "default_invite_link_base")]
    pub invite_link_base: String,
    /// `IDEMPOTENCY_RETENTION`: how long provisioning results are kept for replay (at least 24 h);
    /// default `24h`.
    #[serde(default = "default_day", with = "humantime_serde")]
    pub idempotency_retention: Duration,
    /// `PENDING_PAYMENT_THRESHOLD`: the sweep reports tenants pending payment longer than this;
    /// default `24h`.
    #[serde(default = "default_day", with = "humantime_serde")]
    pub pending_payment_threshold: Duration,
    /// `SWEEP_INTERVAL`: how often the sweep runs (and logs its report); default `5m`.
    #[serde(default = "default_sweep_interval", with = "humantime_serde")]
    pub sweep_interval: Duration,
    /// `OPERATOR_USER_IDS`: comma-separated user ids allowed to read the sweep report; default none.
    #[serde(default)]
    pub operator_user_ids: String,
    /// `STARTER_TEMPLATE_PATH`: a JSON starter-data template replacing the built-in one.
    #[serde(default)]
    pub starter_template_path: Option<PathBuf>,
    /// `SMTP_URL` (secret): where invite emails are sent (`smtp://host:25`, `smtps://user:pass@host`).
    /// Unset: emails wait in the outbox until a replica with SMTP configured sends them.
    #[serde(default)]
    pub smtp_url: Option<SecretString>,
    /// `MAIL_FROM`: the sender of invite emails; default `Onramp <no-reply@localhost>`.
    #[serde(default = "onramp_kit::mail::smtp::default_mail_from")]
    pub mail_from: String,
    /// `OUTBOX_POLL_INTERVAL`: how often the email relay looks for unsent mail; default `1s`.
    #[serde(default = "default_outbox_poll", with = "humantime_serde")]
    pub outbox_poll_interval: Duration,
}

fn default_outbox_poll() -> Duration {
    Duration::from_secs(1)
}

fn default_payment_retry_after() -> Duration {
    Duration::from_secs(2)
}

fn default_invite_validity() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

fn default_invite_link_base() -> String {
    "http://localhost:8080/invites/".to_owned()
}

fn default_day() -> Duration {
    Duration::from_secs(24 * 3600)
}

fn default_sweep_interval() -> Duration {
    Duration::from_secs(300)
}

onramp_kit::service_settings!(
    Config,
    crate::Application::NAME,
    Config::derived_from_app_base_url
);

impl Config {
    /// The defaults that follow from `APP_BASE_URL`: invite links open the app's invite page.
    pub fn derived_from_app_base_url(app_base_url: &str) -> Variables {
        Variables::new([("INVITE_LINK_BASE", format!("{app_base_url}/invites/"))])
    }

    pub(crate) fn smtp(&self) -> Option<SmtpSettings> {
        SmtpSettings::when_set(self.smtp_url.as_ref(), &self.mail_from)
    }

    pub(crate) fn operators(&self) -> anyhow::Result<Vec<Uuid>> {
        self.operator_user_ids
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(|id| {
                Uuid::parse_str(id)
                    .with_context(|| format!("OPERATOR_USER_IDS: {id} is not a UUID"))
            })
            .collect()
    }

    pub(crate) fn template(&self) -> anyhow::Result<StarterTemplate> {
        match &self.starter_template_path {
            Some(path) => {
                let json = std::fs::read_to_string(path)
                    .with_context(|| format!("reading STARTER_TEMPLATE_PATH {}", path.display()))?;
                StarterTemplate::parse(&json)
            }
            None => StarterTemplate::parse(DEFAULT_TEMPLATE),
        }
    }

    pub(crate) fn standalone_state(&self) -> TenantState {
        match self.standalone_initial_state {
            StandaloneState::Active => TenantState::Active,
            StandaloneState::PendingPayment => TenantState::PendingPayment,
        }
    }
}
