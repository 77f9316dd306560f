//! OAuth / OpenID Connect with the `openidconnect` crate: discovery (cached), the authorization URL
//! with PKCE (S256), `state` and `nonce`, and the code exchange with ID-token validation.

mod config;
pub(crate) mod crypto;

use std::{collections::HashMap, sync::Arc};

use onramp_kit::config::ExposeSecret as _;
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, TokenResponse as _,
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata},
    reqwest,
};
use tokio::sync::RwLock;

pub use config::{OauthProviderConfig, ProviderKind};

/// What a login start produced; identity keeps the secrets, the browser gets the URL.
#[derive(Debug)]
pub(crate) struct Authorization {
    pub(crate) url: String,
    pub(crate) state: String,
    pub(crate) nonce: String,
    pub(crate) pkce_verifier: String,
}

/// Who the provider says signed in.
#[derive(Debug)]
pub(crate) struct ProviderIdentity {
    pub(crate) subject: String,
    pub(crate) email: Option<String>,
    pub(crate) email_verified: bool,
    pub(crate) name: Option<String>,
    pub(crate) refresh_token: Option<String>,
}

/// Why a provider step failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OauthError {
    #[error("provider not configured")]
    UnknownProvider,
    #[error("the provider rejected the code: {0}")]
    CodeRejected(String),
    #[error("the ID token is invalid: {0}")]
    IdTokenInvalid(String),
    #[error("the provider could not be reached: {0}")]
    Unavailable(String),
}

/// The configured providers and their discovered metadata.
#[derive(Debug, Clone)]
pub(crate) struct Providers {
    configs: Arc<Vec<OauthProviderConfig>>,
    metadata: Arc<RwLock<HashMap<String, CoreProviderMetadata>>>,
    http: reqwest::Client,
}

impl Providers {
    pub(crate) fn new(configs: Vec<OauthProviderConfig>) -> anyhow::Result<Self> {
        let http = reqwest::ClientBuilder::new()
            // Following redirects would open the exchange to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(Self {
            configs: Arc::new(configs),
            metadata: Arc::new(RwLock::new(HashMap::new())),
            http,
        })
    }

    /// Every configured provider, in display order.
    pub(crate) fn all(&self) -> &[OauthProviderConfig] {
        &self.configs
    }

    fn config(&self, id: &str) -> Result<&OauthProviderConfig, OauthError> {
        self.configs
            .iter()
            .find(|p| p.id == id)
            .ok_or(OauthError::UnknownProvider)
    }

    /// The provider's discovery document (fetched once, then cached).
    async fn metadata(
        &self,
        config: &OauthProviderConfig,
    ) -> Result<CoreProviderMetadata, OauthError> {
        if let Some(found) = self.metadata.read().await.get(&config.id) {
            return Ok(found.clone());
        }
        let issuer = config
            .issuer()
            .ok_or_else(|| OauthError::Unavailable("provider has no issuer configured".into()))?;
        let issuer = IssuerUrl::new(issuer).map_err(|e| OauthError::Unavailable(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| OauthError::Unavailable(format!("discovery: {e}")))?;
        self.metadata
            .write()
            .await
            .insert(config.id.clone(), metadata.clone());
        Ok(metadata)
    }

    async fn client(&self, id: &str, redirect_uri: &str) -> Result<Client, OauthError> {
        let config = self.config(id)?;
        let metadata = self.metadata(config).await?;
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| OauthError::Unavailable(format!("redirect uri: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(config.client_id.clone()),
            config
                .client_secret
                .as_ref()
                .map(|s| ClientSecret::new(s.expose_secret().to_owned())),
        )
        .set_redirect_uri(redirect))
    }

    /// The authorization URL for a new login.
    pub(crate) async fn authorize(
        &self,
        id: &str,
        redirect_uri: &str,
    ) -> Result<Authorization, OauthError> {
        let client = self.client(id, redirect_uri).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = authorize_url(&client, challenge);
        Ok(Authorization {
            url,
            state,
            nonce,
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code (with the PKCE verifier) and validates the ID token (signature, iss,
    /// aud, exp, nonce).
    pub(crate) async fn exchange(
        &self,
        id: &str,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<ProviderIdentity, OauthError> {
        let client = self.client(id, redirect_uri).await?;
        exchange_code(&client, &self.http, code, pkce_verifier, nonce).await
    }
}

/// A `CoreClient` built from discovery metadata, with its redirect URI set.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

fn authorize_url(client: &Client, challenge: PkceCodeChallenge) -> (String, String, String) {
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".to_owned()))
        .add_scope(Scope::new("profile".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    (
        url.to_string(),
        state.secret().clone(),
        nonce.secret().clone(),
    )
}

async fn exchange_code(
    client: &Client,
    http: &reqwest::Client,
    code: &str,
    pkce_verifier: &str,
    nonce: &str,
) -> Result<ProviderIdentity, OauthError> {
    let request = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| OauthError::Unavailable(format!("token endpoint: {e}")))?
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()));
    let response = request.request_async(http).await.map_err(|e| match e {
        RequestTokenError::ServerResponse(body) => {
            OauthError::CodeRejected(body.error().to_string())
        }
        RequestTokenError::Parse(e, _) => OauthError::CodeRejected(e.to_string()),
        other => OauthError::Unavailable(other.to_string()),
    })?;
    let id_token = response
        .id_token()
        .ok_or_else(|| OauthError::IdTokenInvalid("no ID token".into()))?;
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(nonce.to_owned()))
        .map_err(|e| OauthError::IdTokenInvalid(e.to_string()))?;
    Ok(ProviderIdentity {
        subject: claims.subject().as_str().to_owned(),
        email: claims.email().map(|e| e.as_str().trim().to_lowercase()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned()),
        refresh_token: response.refresh_token().map(|t| t.secret().clone()),
    })
}
