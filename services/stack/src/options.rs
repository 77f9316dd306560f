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
    /// Adjustments to each part's config before it starts (tests: SMTP, signing keys, limits, a
    /// shared clock, a Stripe stand-in). Added with [`StackOptions::identity`] and its siblings; each
    /// runs after the ones added before it, so a test's hook never silently replaces a harness's.
    pub(crate) hooks: Hooks,
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

/// Every hook added for one part, applied in the order they were added.
pub(crate) struct HookChain<T>(Vec<ConfigHook<T>>);

impl<T> HookChain<T> {
    /// Runs every hook on `config`, the earliest first.
    pub(crate) fn apply(&self, config: &mut T) {
        for hook in &self.0 {
            hook.apply(config);
        }
    }
}

impl<T> Default for HookChain<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> Clone for HookChain<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> std::fmt::Debug for HookChain<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} hook(s)", self.0.len())
    }
}

/// The hook chains of every part.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) identity: HookChain<onramp_identity::Config>,
    pub(crate) tenancy: HookChain<onramp_tenant_provisioning::Config>,
    pub(crate) billing: HookChain<onramp_billing::Config>,
    pub(crate) onboarding: HookChain<onramp_onboarding::Config>,
    pub(crate) gateway: HookChain<onramp_gateway::Config>,
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
            hooks: Hooks::default(),
            billing_webhook_secrets: Vec::new(),
            config: ConfigSources::default(),
            mailbox: None,
            default_app_base_url: None,
        }
    }

    /// Adds an adjustment of identity's config, run after every one added before it.
    pub fn identity(
        &mut self,
        adjust: impl Fn(&mut onramp_identity::Config) + Send + Sync + 'static,
    ) {
        self.hooks.identity.0.push(ConfigHook::new(adjust));
    }

    /// Adds an adjustment of tenant-provisioning's config, run after every one added before it.
    pub fn tenancy(
        &mut self,
        adjust: impl Fn(&mut onramp_tenant_provisioning::Config) + Send + Sync + 'static,
    ) {
        self.hooks.tenancy.0.push(ConfigHook::new(adjust));
    }

    /// Adds an adjustment of billing's config, run after every one added before it.
    pub fn billing(
        &mut self,
        adjust: impl Fn(&mut onramp_billing::Config) + Send + Sync + 'static,
    ) {
        self.hooks.billing.0.push(ConfigHook::new(adjust));
    }

    /// Adds an adjustment of onboarding's config, run after every one added before it.
    pub fn onboarding(
        &mut self,
        adjust: impl Fn(&mut onramp_onboarding::Config) + Send + Sync + 'static,
    ) {
        self.hooks.onboarding.0.push(ConfigHook::new(adjust));
    }

    /// Adds an adjustment of the gateway's config, run after every one added before it.
    pub fn gateway(
        &mut self,
        adjust: impl Fn(&mut onramp_gateway::Config) + Send + Sync + 'static,
    ) {
        self.hooks.gateway.0.push(ConfigHook::new(adjust));
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
