//! OAuth / OIDC provider configuration: Google and Microsoft presets plus any OIDC issuer.

use onramp_kit::config::SecretString;
use serde::Deserialize;

/// Which kind of provider (the presets fill in the issuer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Google: issuer `https://accounts.google.com`.
    Google,
    /// Microsoft identity platform: issuer `https://login.microsoftonline.com/{tenant}/v2.0`.
    Microsoft,
    /// Any OpenID Connect issuer, found by discovery from `issuer_url`.
    Oidc,
}

/// One configured provider (an element of `OAUTH_PROVIDERS`).
#[derive(Debug, Clone, Deserialize)]
pub struct OauthProviderConfig {
    /// Stable id used in routes (`/v1/auth/oauth/{id}/…`): lowercase letters, digits, hyphens.
    pub id: String,
    /// The preset, or `oidc`.
    pub kind: ProviderKind,
    /// The button label; defaults to the preset's name or the id.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The issuer (discovery at `{issuer_url}/.well-known/openid-configuration`); required for `oidc`.
    #[serde(default)]
    pub issuer_url: Option<String>,
    /// Microsoft only: the directory (tenant) id whose users may sign in.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The OAuth client id registered with the provider.
    pub client_id: String,
    /// The OAuth client secret (a secret; absent for public clients).
    #[serde(default)]
    pub client_secret: Option<SecretString>,
}

impl OauthProviderConfig {
    /// The issuer URL to discover.
    pub fn issuer(&self) -> Option<String> {
        match self.kind {
            ProviderKind::Google => Some("https://accounts.google.com".to_owned()),
            ProviderKind::Microsoft => self
                .tenant
                .as_ref()
                .map(|tenant| format!("https://login.microsoftonline.com/{tenant}/v2.0")),
            ProviderKind::Oidc => self.issuer_url.clone(),
        }
    }

    /// The label shown on the login button.
    pub fn label(&self) -> String {
        self.display_name
            .clone()
            .unwrap_or_else(|| match self.kind {
                ProviderKind::Google => "Google".to_owned(),
                ProviderKind::Microsoft => "Microsoft".to_owned(),
                ProviderKind::Oidc => self.id.clone(),
            })
    }
}
