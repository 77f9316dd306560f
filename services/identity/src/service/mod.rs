//! The identity use cases, independent of gRPC: accounts, sessions, and what the public may read.

mod accounts;
mod mails;
mod meter;
mod oauth;
mod reset;
mod sessions;
mod verification;

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, TimeDelta, Utc};
use onramp_kit::auth::Clock;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    config::Config,
    keys::SigningKeys,
    oauth::{Providers, crypto::TokenCipher},
    passwords::{HashLimits, PasswordHasher},
    peers::InviteResolver,
    store::{audit::AuditEvent, users::UserRow},
};

pub(crate) use accounts::{SignupInput, UserView};

/// Who is asking, as the gateway described them.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestMeta {
    /// The verified user, when signed in.
    pub(crate) user_id: Option<Uuid>,
    pub(crate) client_ip: Option<String>,
    pub(crate) user_agent: Option<String>,
}

impl RequestMeta {
    /// An audit event of `kind` from this request's client.
    pub(crate) fn audit(&self, kind: &'static str) -> AuditEvent<'_> {
        AuditEvent::new(kind, self.client_ip.as_deref(), self.user_agent.as_deref())
    }
}

/// A freshly issued session pair.
#[derive(Debug, Clone)]
pub(crate) struct IssuedSession {
    pub(crate) access_token: String,
    pub(crate) access_token_expires_at: DateTime<Utc>,
    pub(crate) refresh_token: String,
    pub(crate) refresh_token_expires_at: DateTime<Utc>,
    pub(crate) session_id: Uuid,
    pub(crate) user_id: Uuid,
}

/// The settings the use cases need, lifted out of [`Config`].
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) access_ttl: TimeDelta,
    pub(crate) refresh_ttl: TimeDelta,
    pub(crate) refresh_reuse_window: TimeDelta,
    pub(crate) self_serve_enabled: bool,
    /// Normalised (trimmed, lowercased) addresses that may sign up while self-serve is off.
    pub(crate) internal_testers: Vec<String>,
    pub(crate) grace: TimeDelta,
    pub(crate) max_failures_per_account: i64,
    pub(crate) account_window: TimeDelta,
    pub(crate) max_failures_per_ip: i64,
    pub(crate) ip_window: TimeDelta,
    pub(crate) app_base_url: String,
    pub(crate) verification_ttl: TimeDelta,
    pub(crate) resend_cooldown: TimeDelta,
    pub(crate) reset_ttl: TimeDelta,
    pub(crate) reset_max_per_hour: i64,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) state_ttl: TimeDelta,
}

/// Why a signup without an invite may (or may not) go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignupGate {
    /// Self-serve signup is on.
    Open,
    /// Self-serve is off, but the address is an internal tester's (each use is audited).
    InternalTester,
    /// Self-serve is off: `403 SELF_SERVE_DISABLED`.
    Closed,
}

impl Policy {
    /// The gate for an uninvited signup of `email` (normalised).
    pub(crate) fn signup_gate(&self, email: &str) -> SignupGate {
        if self.self_serve_enabled {
            SignupGate::Open
        } else if self.internal_testers.iter().any(|tester| tester == email) {
            SignupGate::InternalTester
        } else {
            SignupGate::Closed
        }
    }
}

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

impl Policy {
    fn from_config(config: &Config) -> Self {
        Self {
            issuer: config.token_issuer.clone(),
            audience: config.token_audience.clone(),
            access_ttl: delta(config.access_token_ttl),
            refresh_ttl: delta(config.refresh_token_ttl),
            refresh_reuse_window: delta(config.refresh_reuse_window),
            self_serve_enabled: config.self_serve_enabled,
            internal_testers: config
                .internal_tester_emails
                .iter()
                .map(|email| email.trim().to_lowercase())
                .collect(),
            grace: delta(config.email_verification_grace),
            max_failures_per_account: i64::from(config.login_max_failures_per_account),
            account_window: delta(config.login_account_window),
            max_failures_per_ip: i64::from(config.login_max_failures_per_ip),
            ip_window: delta(config.login_ip_window),
            app_base_url: config.app_base_url.trim_end_matches('/').to_owned(),
            verification_ttl: delta(config.email_verification_token_ttl),
            resend_cooldown: delta(config.verification_resend_cooldown),
            reset_ttl: delta(config.password_reset_token_ttl),
            reset_max_per_hour: i64::from(config.password_reset_max_per_hour),
            redirect_uris: config.redirect_uris(),
            state_ttl: delta(config.oauth_state_ttl),
        }
    }
}

/// The identity service's use cases. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pool: PgPool,
    hasher: PasswordHasher,
    keys: Arc<SigningKeys>,
    clock: Clock,
    pub(crate) policy: Arc<Policy>,
    pub(crate) providers: Providers,
    cipher: TokenCipher,
    invites: InviteResolver,
}

impl Identity {
    pub(crate) fn new(pool: PgPool, config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            pool,
            hasher: PasswordHasher::new(HashLimits::from_resources(
                std::thread::available_parallelism().map_or(1, usize::from),
                config.password_hash_memory_limit_mib,
                config.password_hash_queue_wait,
            )),
            keys: Arc::new(SigningKeys::from_config(config)?),
            clock: config.clock.clone(),
            policy: Arc::new(Policy::from_config(config)),
            providers: Providers::new(
                config.oauth_providers.clone(),
                config.oauth_discovery_refresh,
            )?,
            invites: InviteResolver::new(config.tenant_provisioning_service_addr.as_deref())?,
            cipher: TokenCipher::from_config(
                config.oauth_token_key.as_ref(),
                !config.oauth_providers.is_empty(),
            )?,
        })
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The public keys and how long to cache them.
    pub(crate) fn jwks(&self) -> Vec<crate::keys::PublicJwk> {
        self.keys.public()
    }
}

impl UserView {
    fn from_row(row: UserRow, now: DateTime<Utc>) -> Self {
        let verified = row.email_verified_at.is_some();
        let grace = if verified {
            None
        } else {
            row.verification_grace_ends_at
        };
        Self {
            verification_required: !verified && grace.is_some_and(|end| end <= now),
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            email_verified_at: row.email_verified_at,
            verification_grace_ends_at: grace,
            has_password: row.password_hash.is_some(),
            created_at: row.created_at,
        }
    }
}
