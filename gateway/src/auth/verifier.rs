//! Verifies access tokens locally against identity's JWKS, cached and refreshed as [`KeyCache`]
//! decides: refetched when stale or when a token names an unknown `kid` (a rotation), and served
//! from the last good set, with backed-off refetches, while identity is unreachable.

use std::{sync::Arc, time::Duration};

use onramp_kit::{auth::AccessClaims, auth::Clock, grpc::client::TracedChannel};
use onramp_proto::identity::v1::{GetJwksRequest, identity_service_client::IdentityServiceClient};
use tokio::sync::Mutex;

use super::{
    keys::{KeySet, Rejected},
    refresh::{KeyCache, Plan},
};

/// Why verification could not finish.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VerifyError {
    /// The token is not acceptable.
    #[error("token rejected: {0}")]
    Rejected(#[from] Rejected),
    /// The keys could not be fetched.
    #[error("fetching the JWKS: {0}")]
    Jwks(#[from] tonic::Status),
    /// Identity is unreachable, refetches are backing off, and the cached keys cannot verify this
    /// token: come back after this long.
    #[error("identity's keys are unavailable")]
    BackingOff(Duration),
}

/// The gateway's access-token verifier. One `Arc` to clone: the router copies it into every
/// request's extensions, and cloning the identity client (a buffered channel) showed in the
/// `gateway_hop` profile.
#[derive(Debug, Clone)]
pub(crate) struct Verifier(Arc<Shared>);

/// What every clone of a [`Verifier`] shares.
#[derive(Debug)]
struct Shared {
    identity: IdentityServiceClient<TracedChannel>,
    audience: Box<str>,
    clock: Clock,
    cache: std::sync::Mutex<KeyCache>,
    fetching: Mutex<()>,
}

impl Verifier {
    pub(crate) fn new(
        identity: IdentityServiceClient<TracedChannel>,
        audience: &str,
        clock: Clock,
    ) -> Self {
        Self(Arc::new(Shared {
            identity,
            audience: audience.into(),
            clock,
            cache: std::sync::Mutex::new(KeyCache::default()),
            fetching: Mutex::new(()),
        }))
    }

    /// The claims of a valid access token.
    pub(crate) async fn verify(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        let now = self.0.clock.now();
        // A token verified earlier with a still-fresh key skips the signature check; its times
        // are checked again.
        if let Some(known) = self.cache().verified_claims(token, now.timestamp_millis()) {
            return Ok(known?);
        }
        // Cheap checks first: a token with a forbidden algorithm never causes a fetch.
        let kid = KeySet::kid_of(token)?;
        let keys = self.keys_for(&kid).await?;
        let claims = keys.verify(token, &self.0.audience, now.timestamp())?;
        self.cache()
            .remember(token, &kid, &claims, now.timestamp_millis());
        Ok(claims)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, KeyCache> {
        self.0
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now_ms(&self) -> i64 {
        self.0.clock.now().timestamp_millis()
    }

    /// The key set to verify a token naming `kid` with, fetched if the cache says so.
    async fn keys_for(&self, kid: &str) -> Result<KeySet, VerifyError> {
        if let Some(decided) = self.decided(kid) {
            return decided;
        }
        // One fetch at a time; whoever waited re-checks what the fetch brought.
        let _fetching = self.0.fetching.lock().await;
        if let Some(decided) = self.decided(kid) {
            return decided;
        }
        let fetched = self.0.identity.clone().get_jwks(GetJwksRequest {}).await;
        let now = self.now_ms();
        match fetched {
            Ok(jwks) => {
                let jwks = jwks.into_inner();
                let keys = KeySet::new(
                    jwks.issuer,
                    jwks.keys
                        .iter()
                        .map(|k| (k.kid.as_str(), k.alg.as_str(), k.x.as_str())),
                );
                let max_age = Duration::from_secs(u64::from(jwks.cache_max_age_seconds));
                self.cache().fetched(keys.clone(), max_age, now);
                Ok(keys)
            }
            Err(status) => {
                let fallback = self.cache().failed(kid, now);
                tracing::warn!(grpc_code = ?status.code(), served_from_cache = fallback.is_some(),
                    "fetching identity's keys failed; backing off");
                fallback.ok_or(VerifyError::Jwks(status))
            }
        }
    }

    /// The cache's answer, or `None` when it says to fetch.
    fn decided(&self, kid: &str) -> Option<Result<KeySet, VerifyError>> {
        match self.cache().plan(kid, self.now_ms()) {
            Plan::UseCached(keys) => Some(Ok(keys)),
            Plan::Unavailable(wait) => Some(Err(VerifyError::BackingOff(wait))),
            Plan::Fetch => None,
        }
    }
}

impl Verifier {
    /// Now, in Unix seconds, by the gateway's clock.
    pub(crate) fn now(&self) -> i64 {
        self.0.clock.now().timestamp()
    }
}
