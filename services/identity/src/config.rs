//! The identity service's configuration. Field names are the environment variable names, lowercased.

use std::{path::PathBuf, time::Duration};

use onramp_kit::{
    auth::Clock, config::SecretString, mail::smtp::SmtpSettings, service_config::ServiceConfig,
};
use serde::Deserialize;

use crate::oauth::OauthProviderConfig;

/// The identity service's configuration (environment variables, see the README).
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Listen address, database and telemetry, shared by every service.
    #[serde(flatten)]
    pub base: ServiceConfig,
    /// `TOKEN_ISSUER`: the `iss` of access tokens; default `onramp-identity`.
    #[serde(default = "default_issuer")]
    pub token_issuer: String,
    /// `TOKEN_AUDIENCE`: the `aud` of access tokens (what the gateway expects); default `onramp-api`.
    #[serde(default = "default_audience")]
    pub token_audience: String,
    /// `ACCESS_TOKEN_TTL`: how long an access token lives; default `15m`.
    #[serde(default = "default_access_ttl", with = "humantime_serde")]
    pub access_token_ttl: Duration,
    /// `REFRESH_TOKEN_TTL`: how long a refresh token is accepted; default `30days`.
    #[serde(default = "default_refresh_ttl", with = "humantime_serde")]
    pub refresh_token_ttl: Duration,
    /// `REFRESH_REUSE_WINDOW`: how long after a refresh token is rotated it may still be exchanged
    /// (for another pair in the same session) instead of counting as reuse: two browser tabs
    /// refreshing at once must not log the user out. Past it, reuse revokes the family. Default `5s`.
    #[serde(default = "default_refresh_reuse_window", with = "humantime_serde")]
    pub refresh_reuse_window: Duration,
    /// `SIGNING_KEYS_FILE`: a PEM file of PKCS#8 Ed25519 private keys, newest (the signing key) first;
    /// the others stay in the JWKS so their tokens verify until they expire (rotation). Required when
    /// `ONRAMP_ENV=production` unless `SIGNING_KEYS_PEM` is set; without either, two keys are generated
    /// at start (dev and tests only: tokens then die with the process).
    #[serde(default)]
    pub signing_keys_file: Option<PathBuf>,
    /// `SIGNING_KEYS_DIR`: a directory of PEM files (PKCS#8 Ed25519, one or more keys each), as a
    /// Kubernetes Secret mounts them. Files are taken in descending name order, so the greatest name
    /// (e.g. `2026-11-22.pem`) holds the signing key and older ones stay published for verification.
    #[serde(default)]
    pub signing_keys_dir: Option<PathBuf>,
    /// `SIGNING_KEYS_PEM`: the same PEM bundle as `SIGNING_KEYS_FILE`, inline (a secret).
    #[serde(default)]
    pub signing_keys_pem: Option<SecretString>,
    /// `TENANT_PROVISIONING_SERVICE_ADDR`: tenancy, asked to resolve the invite code a signup or OAuth
    /// login carries; unset = such signups answer 503 (signups without a code are unaffected).
    #[serde(default)]
    pub tenant_provisioning_service_addr: Option<String>,
    /// `SELF_SERVE_ENABLED`: whether signup without an invite is open; default `true`.
    #[serde(default = "default_true")]
    pub self_serve_enabled: bool,
    /// `INTERNAL_TESTER_EMAILS`: comma-separated addresses that may sign up (password and OAuth)
    /// while `SELF_SERVE_ENABLED=false`, matched case-insensitively on the normalised address; each
    /// use is audited. Never published (not in the public config). Default none.
    #[serde(default, deserialize_with = "onramp_kit::config::comma_separated")]
    pub internal_tester_emails: Vec<String>,
    /// `EMAIL_VERIFICATION_GRACE`: how long an unverified account works fully; default `7days`.
    #[serde(default = "default_grace", with = "humantime_serde")]
    pub email_verification_grace: Duration,
    /// `LOGIN_MAX_FAILURES_PER_ACCOUNT`: failed logins per account per window before `429`; default 10.
    #[serde(default = "default_account_failures")]
    pub login_max_failures_per_account: u32,
    /// `LOGIN_ACCOUNT_WINDOW`: the per-account failure window; default `15m`.
    #[serde(default = "default_account_window", with = "humantime_serde")]
    pub login_account_window: Duration,
    /// `LOGIN_MAX_FAILURES_PER_IP`: failed logins per client IP per window before `429`; default 100.
    #[serde(default = "default_ip_failures")]
    pub login_max_failures_per_ip: u32,
    /// `LOGIN_IP_WINDOW`: the per-IP failure window; default `1h`.
    #[serde(default = "default_ip_window", with = "humantime_serde")]
    pub login_ip_window: Duration,
    /// `PASSWORD_HASH_MEMORY_LIMIT_MIB`: the most memory argon2 may use at once in this replica; with
    /// the core count it sizes how many hashes run concurrently (each takes 19 MiB, so the default
    /// 256 allows up to 13, fewer on fewer cores). Excess requests queue.
    #[serde(default = "default_hash_memory")]
    pub password_hash_memory_limit_mib: u32,
    /// `PASSWORD_HASH_QUEUE_WAIT`: how long a request waits for a hashing slot before it is answered
    /// `503 UNAVAILABLE` with `Retry-After`; default `2s`.
    #[serde(default = "default_hash_queue_wait", with = "humantime_serde")]
    pub password_hash_queue_wait: Duration,
    /// `SMTP_URL` and `MAIL_FROM`: where verification, reset and notice emails go. Unset: emails are
    /// kept in the outbox (nothing is lost) until a replica with SMTP settings sends them.
    #[serde(flatten, default)]
    pub smtp: Option<SmtpSettings>,
    /// `EMAIL_OUTBOX_POLL_INTERVAL`: how often the outbox relay looks for unsent email; default `1s`.
    #[serde(default = "default_outbox_poll", with = "humantime_serde")]
    pub email_outbox_poll_interval: Duration,
    /// `APP_BASE_URL`: the web app's URL, for links in emails (`/verify-email?token=…`,
    /// `/reset-password?token=…`); default `http://localhost:8080`.
    #[serde(default = "default_app_base_url")]
    pub app_base_url: String,
    /// `EMAIL_VERIFICATION_TOKEN_TTL`: how long a verification link works; default `48h`.
    #[serde(default = "default_verification_ttl", with = "humantime_serde")]
    pub email_verification_token_ttl: Duration,
    /// `VERIFICATION_RESEND_COOLDOWN`: the shortest time between two verification emails; default `60s`.
    #[serde(default = "default_resend_cooldown", with = "humantime_serde")]
    pub verification_resend_cooldown: Duration,
    /// `PASSWORD_RESET_TOKEN_TTL`: how long a reset link works; default `1h`.
    #[serde(default = "default_reset_ttl", with = "humantime_serde")]
    pub password_reset_token_ttl: Duration,
    /// `PASSWORD_RESET_MAX_PER_HOUR`: reset requests per email address per hour; default 5.
    #[serde(default = "default_reset_max")]
    pub password_reset_max_per_hour: u32,
    /// `OAUTH_PROVIDERS`: the OAuth / OIDC providers (a TOML array of tables: `id`, `kind` =
    /// `google` | `microsoft` | `oidc`, `client_id`, `client_secret`, `issuer_url` for `oidc`,
    /// `tenant` for `microsoft`, optional `display_name`); default none.
    #[serde(default)]
    pub oauth_providers: Vec<OauthProviderConfig>,
    /// `OAUTH_REDIRECT_URIS`: the only redirect URIs StartOauth accepts; the first is the default.
    /// Unset (empty): `{APP_BASE_URL}/oauth/callback`, so one setting moves every link.
    #[serde(default)]
    pub oauth_redirect_uris: Vec<String>,
    /// `OAUTH_TOKEN_KEY`: base64 of 32 bytes, the AES-256-GCM key for providers' refresh tokens at
    /// rest. Required when `ONRAMP_ENV=production`; generated per process otherwise.
    #[serde(default)]
    pub oauth_token_key: Option<SecretString>,
    /// `OAUTH_DISCOVERY_REFRESH`: how long a provider's discovery document and signing keys are
    /// used before they are fetched again (an ID token signed by an unknown key refetches at once);
    /// default `1h`.
    #[serde(default = "default_discovery_refresh", with = "humantime_serde")]
    pub oauth_discovery_refresh: Duration,
    /// `OAUTH_STATE_TTL`: how long a started OAuth login may take; default `10m`.
    #[serde(default = "default_state_ttl", with = "humantime_serde")]
    pub oauth_state_ttl: Duration,
    /// Wall-clock time; tests share an adjustable one with the gateway. Not configurable by env.
    #[serde(skip)]
    pub clock: Clock,
}

onramp_kit::service_settings!(
    Config,
    crate::Application::NAME,
    onramp_kit::config::derive_nothing
);

impl Config {
    /// The redirect URIs StartOauth accepts: `OAUTH_REDIRECT_URIS`, else the app's own callback page.
    pub fn redirect_uris(&self) -> Vec<String> {
        if self.oauth_redirect_uris.is_empty() {
            vec![format!(
                "{}/oauth/callback",
                self.app_base_url.trim_end_matches('/')
            )]
        } else {
            self.oauth_redirect_uris.clone()
        }
    }
}

fn default_issuer() -> String {
    "onramp-identity".to_owned()
}

fn default_audience() -> String {
    "onramp-api".to_owned()
}

fn default_access_ttl() -> Duration {
    Duration::from_secs(15 * 60)
}

fn default_refresh_ttl() -> Duration {
    Duration::from_secs(30 * 24 * 3600)
}

fn default_refresh_reuse_window() -> Duration {
    Duration::from_secs(5)
}

fn default_true() -> bool {
    true
}

fn default_grace() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

fn default_account_failures() -> u32 {
    10
}

fn default_account_window() -> Duration {
    Duration::from_secs(15 * 60)
}

fn default_ip_failures() -> u32 {
    100
}

fn default_ip_window() -> Duration {
    Duration::from_secs(3600)
}

fn default_hash_memory() -> u32 {
    256
}

fn default_hash_queue_wait() -> Duration {
    Duration::from_secs(2)
}

fn default_outbox_poll() -> Duration {
    Duration::from_secs(1)
}

fn default_app_base_url() -> String {
    "http://localhost:8080".to_owned()
}

fn default_verification_ttl() -> Duration {
    Duration::from_secs(48 * 3600)
}

fn default_resend_cooldown() -> Duration {
    Duration::from_secs(60)
}

fn default_reset_ttl() -> Duration {
    Duration::from_secs(3600)
}

fn default_reset_max() -> u32 {
    5
}

fn default_discovery_refresh() -> Duration {
    Duration::from_secs(3600)
}

fn default_state_ttl() -> Duration {
    Duration::from_secs(600)
}

#[cfg(test)]
mod tests {
    use onramp_kit::service_config::ServiceConfig;

    use super::*;

    fn config() -> Config {
        let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        Config::new(ServiceConfig::new(listen, "postgres://localhost/identity"))
    }

    #[test]
    fn the_oauth_redirect_follows_app_base_url_unless_set() {
        let mut config = config();
        config.app_base_url = "https://app.example.com/".into();
        assert_eq!(
            config.redirect_uris(),
            vec!["https://app.example.com/oauth/callback"]
        );
        config.oauth_redirect_uris = vec!["https://other.example/cb".into()];
        assert_eq!(config.redirect_uris(), vec!["https://other.example/cb"]);
    }

    #[test]
    fn internal_testers_come_as_a_comma_separated_list() {
        #[derive(Deserialize)]
        struct Only {
            #[serde(deserialize_with = "onramp_kit::config::comma_separated")]
            internal_tester_emails: Vec<String>,
        }
        let parsed: Only = serde_json::from_value(serde_json::json!({
            "internal_tester_emails": " Ada@Example.com, ,bob@example.org "
        }))
        .expect("list");
        assert_eq!(
            parsed.internal_tester_emails,
            vec!["Ada@Example.com", "bob@example.org"]
        );
    }
}
