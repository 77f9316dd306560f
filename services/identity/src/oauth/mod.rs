//! OAuth / OpenID Connect with the `openidconnect` crate: discovery (cached), the authorization URL
//! with PKCE (S256), `state` and `nonce`, and the code exchange with ID-token validation.

mod config;
pub(crate) mod crypto;

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use onramp_kit::config::ExposeSecret as _;
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse as _,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenResponse as _,
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreTokenResponse},
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

/// A provider's discovery document with its key set (JWKS), and when it was fetched.
#[derive(Debug, Clone)]
struct Discovered {
    metadata: CoreProviderMetadata,
    fetched_at: Instant,
}

/// The configured providers and their discovered metadata.
#[derive(Debug, Clone)]
pub(crate) struct Providers {
    configs: Arc<Vec<OauthProviderConfig>>,
    metadata: Arc<RwLock<HashMap<String, Discovered>>>,
    /// How long a discovery document (and its keys) is used before it is fetched again.
    refresh_after: Duration,
    http: reqwest::Client,
}

impl Providers {
    pub(crate) fn new(
        configs: Vec<OauthProviderConfig>,
        refresh_after: Duration,
    ) -> anyhow::Result<Self> {
        let http = reqwest::ClientBuilder::new()
            // Following redirects would open the exchange to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            configs: Arc::new(configs),
            metadata: Arc::new(RwLock::new(HashMap::new())),
            refresh_after,
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

    /// The provider's discovery document and keys: cached, fetched again once older than
    /// `refresh_after` (providers rotate keys), or — `fetched_after` set — unless fetched after that
    /// instant: an ID token signed by a key we do not know needs keys newer than its exchange, and a
    /// burst of logins during a rotation asks the provider once (the first refetch serves the rest).
    /// A failed refetch keeps the last good document.
    async fn metadata(
        &self,
        config: &OauthProviderConfig,
        fetched_after: Option<Instant>,
    ) -> Result<CoreProviderMetadata, OauthError> {
        let cached = self.metadata.read().await.get(&config.id).cloned();
        if let Some(cached) = &cached {
            let fresh = match fetched_after {
                Some(instant) => cached.fetched_at > instant,
                None => cached.fetched_at.elapsed() < self.refresh_after,
            };
            if fresh {
                return Ok(cached.metadata.clone());
            }
        }
        match self.discover(config).await {
            Ok(metadata) => {
                self.metadata.write().await.insert(
                    config.id.clone(),
                    Discovered {
                        metadata: metadata.clone(),
                        fetched_at: Instant::now(),
                    },
                );
                Ok(metadata)
            }
            Err(error) => match cached {
                Some(cached) => {
                    tracing::warn!(provider = %config.id, %error, "oauth discovery refresh failed; using the last good document");
                    Ok(cached.metadata)
                }
                None => Err(error),
            },
        }
    }

    async fn discover(
        &self,
        config: &OauthProviderConfig,
    ) -> Result<CoreProviderMetadata, OauthError> {
        let issuer = config
            .issuer()
            .ok_or_else(|| OauthError::Unavailable("provider has no issuer configured".into()))?;
        let issuer = IssuerUrl::new(issuer).map_err(|e| OauthError::Unavailable(e.to_string()))?;
        CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| OauthError::Unavailable(format!("discovery: {e}")))
    }

    async fn client(
        &self,
        id: &str,
        redirect_uri: &str,
        fetched_after: Option<Instant>,
    ) -> Result<Client, OauthError> {
        let config = self.config(id)?;
        let metadata = self.metadata(config, fetched_after).await?;
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
        let client = self.client(id, redirect_uri, None).await?;
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
        let client = self.client(id, redirect_uri, None).await?;
        let exchanged_at = Instant::now();
        let response = exchange_code(&client, &self.http, code, pkce_verifier).await?;
        match identity_from(&client, &response, nonce) {
            // Signed by a key we do not have: the provider rotated its keys. Check once more with
            // keys fetched after the exchange (fetching them unless another login just did).
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                let refreshed = self.client(id, redirect_uri, Some(exchanged_at)).await?;
                identity_from(&refreshed, &response, nonce)
                    .map_err(|e| OauthError::IdTokenInvalid(e.to_string()))
            }
            other => other.map_err(|e| OauthError::IdTokenInvalid(e.to_string())),
        }
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
) -> Result<CoreTokenResponse, OauthError> {
    let request = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| OauthError::Unavailable(format!("token endpoint: {e}")))?
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()));
    request.request_async(http).await.map_err(|e| match e {
        RequestTokenError::ServerResponse(body) => {
            OauthError::CodeRejected(body.error().to_string())
        }
        RequestTokenError::Parse(e, _) => OauthError::CodeRejected(e.to_string()),
        other => OauthError::Unavailable(other.to_string()),
    })
}

/// Validates the ID token of `response` (signature against the client's keys, iss, aud, exp,
/// nonce) and reads who signed in.
fn identity_from(
    client: &Client,
    response: &CoreTokenResponse,
    nonce: &str,
) -> Result<ProviderIdentity, ClaimsVerificationError> {
    let id_token = response.id_token().ok_or_else(|| {
        ClaimsVerificationError::Other("the token response has no ID token".to_owned())
    })?;
    let claims = id_token.claims(&client.id_token_verifier(), &Nonce::new(nonce.to_owned()))?;
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
