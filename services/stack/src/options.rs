//! How to run the stack: [`StackOptions`] and the [`ConfigHook`]s tests adjust configs with.

use std::{
    net::{IpAddr, Ipv4Addr},
    sync::Arc,
    time::Duration,
};

use onramp_kit::{
    config::{ConfigSources, Variables},
    mail::mailbox::DevMailbox,
};

use crate::postgres::PgServer;

/// How to run the stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// The Postgres server; each service gets its own database on it.
    pub server: PgServer,
    /// Database names are `<prefix>_<service>` (dashes become underscores).
    pub database_prefix: String,
    /// The interface everything binds to.
    pub host: IpAddr,
    /// The gateway's port; 0 picks a free one. Services always take free ports.
    pub gateway_port: u16,
    /// The gateway's per-request budget.
    pub request_budget: Duration,
    /// How long a stopping service reports NOT_SERVING before it closes.
    pub drain_period: Duration,
    /// Adjusts identity's config before it starts (tests: signing keys, limits, a shared clock).
    pub configure_identity: Option<ConfigHook<onramp_identity::Config>>,
    /// Adjusts tenant-provisioning's config before it starts (tests: SMTP, payment retry hints).
    pub configure_tenancy: Option<ConfigHook<onramp_tenant_provisioning::Config>>,
    /// Adjusts billing's config before it starts (tests: provider, Stripe fake, intervals).
    pub configure_billing: Option<ConfigHook<onramp_billing::Config>>,
    /// Adjusts onboarding's config before it starts (tests: Stripe fake, SMTP, Connect URLs).
    pub configure_onboarding: Option<ConfigHook<onramp_onboarding::Config>>,
    /// Adjusts the gateway's config before it starts (tests: a shared clock).
    pub configure_gateway: Option<ConfigHook<onramp_gateway::Config>>,
    /// Stripe webhook signing secrets billing verifies deliveries with; empty: whatever billing's
    /// configuration says (none by default: webhooks are refused).
    pub billing_webhook_secrets: Vec<onramp_kit::config::SecretString>,
    /// Where every part's configuration comes from, exactly as its own binary reads it (the file and
    /// the environment; see `onramp_kit::config`). The stack then sets only what it owns: listen and
    /// peer addresses and database URLs. Default: no file, no variables (every default).
    pub config: ConfigSources,
    /// A development mailbox: every service without an `SMTP_URL` of its own sends to it, and the
    /// gateway serves it at `GET /v1/dev/mailbox`. `onramp up` sets it when no SMTP is configured.
    pub mailbox: Option<DevMailbox>,
    /// `APP_BASE_URL` when the configuration sets none (`onramp up`: the gateway's own URL, so mail
    /// links and return URLs point at this stack).
    pub default_app_base_url: Option<String>,
}

/// A function that adjusts a config struct before the stack starts a part with it.
pub struct ConfigHook<T>(Arc<dyn Fn(&mut T) + Send + Sync>);

impl<T> ConfigHook<T> {
    /// Wraps `adjust`.
    pub fn new(adjust: impl Fn(&mut T) + Send + Sync + 'static) -> Self {
        Self(Arc::new(adjust))
    }

    /// Applies the adjustment.
    pub fn apply(&self, config: &mut T) {
        (self.0)(config);
    }
}

impl<T> Clone for ConfigHook<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> std::fmt::Debug for ConfigHook<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfigHook(..)")
    }
}

impl StackOptions {
    /// Loopback, free ports, the default budget and a short drain: right for a laptop or a test.
    pub fn local(server: PgServer, database_prefix: impl Into<String>) -> Self {
        Self {
            server,
            database_prefix: database_prefix.into(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            gateway_port: 0,
            request_budget: Duration::from_secs(10),
            drain_period: Duration::from_millis(200),
            configure_identity: None,
            configure_tenancy: None,
            configure_billing: None,
            configure_onboarding: None,
            configure_gateway: None,
            billing_webhook_secrets: Vec::new(),
            config: ConfigSources::default(),
            mailbox: None,
            default_app_base_url: None,
        }
    }

    /// Values beneath every configured source: the stack's drain period, the mailbox and the
    /// default public URL.
    pub(crate) fn defaults(&self) -> Variables {
        let mut defaults = Variables::default();
        defaults.set(
            "DRAIN_PERIOD",
            format!("{}ms", self.drain_period.as_millis()),
        );
        defaults.set(
            "REQUEST_BUDGET",
            format!("{}ms", self.request_budget.as_millis()),
        );
        if let Some(mailbox) = &self.mailbox {
            defaults.set("SMTP_URL", mailbox.smtp_url());
        }
        if let Some(url) = &self.default_app_base_url {
            defaults.set("APP_BASE_URL", url.clone());
        }
        defaults
    }

    /// The database a service uses.
    pub fn database_name(&self, service: &str) -> String {
        format!("{}_{}", self.database_prefix, service.replace('-', "_"))
    }
}
