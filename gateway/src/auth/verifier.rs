//! Verifies access tokens locally against identity's JWKS: cached for the `cache_max_age_seconds`
//! identity advertises, refetched early when a token names a `kid` the cache does not know (a key
//! rotation), at most once per [`MIN_REFETCH_INTERVAL`] so random kids cannot hammer identity.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use onramp_kit::{auth::AccessClaims, auth::Clock, grpc::client::TracedChannel};
use onramp_proto::identity::v1::{GetJwksRequest, identity_service_client::IdentityServiceClient};
use tokio::sync::{Mutex, RwLock};

use super::keys::{KeySet, Rejected};

/// The shortest time between two fetches triggered by unknown kids.
const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Cached {
    keys: KeySet,
    fetched_at: Instant,
    max_age: Duration,
}

/// Why verification could not finish.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VerifyError {
    /// The token is not acceptable.
    #[error("token rejected: {0}")]
    Rejected(#[from] Rejected),
    /// The keys could not be fetched.
    #[error("fetching the JWKS: {0}")]
    Jwks(#[from] tonic::Status),
}

/// The gateway's access-token verifier. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Verifier {
    identity: IdentityServiceClient<TracedChannel>,
    audience: Arc<str>,
    clock: Clock,
    cache: Arc<RwLock<Option<Cached>>>,
    fetching: Arc<Mutex<()>>,
}

impl Verifier {
    pub(crate) fn new(
        identity: IdentityServiceClient<TracedChannel>,
        audience: &str,
        clock: Clock,
    ) -> Self {
        Self {
            identity,
            audience: audience.into(),
            clock,
            cache: Arc::new(RwLock::new(None)),
            fetching: Arc::new(Mutex::new(())),
        }
    }

    /// The claims of a valid access token.
    pub(crate) async fn verify(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        // Cheap checks first: a token with a forbidden algorithm never causes a fetch.
        let kid = KeySet::kid_of(token)?;
        let keys = self.keys_for(&kid).await?;
        Ok(keys.verify(token, &self.audience, self.clock.now().timestamp())?)
    }

    /// The current key set, refetched if stale or missing `kid`.
    async fn keys_for(&self, kid: &str) -> Result<KeySet, VerifyError> {
        if let Some(cached) = self.cache.read().await.as_ref()
            && cached.keys.has(kid)
            && cached.fetched_at.elapsed() < cached.max_age
        {
            return Ok(cached.keys.clone());
        }
        // One fetch at a time; whoever waited re-checks what the fetch brought.
        let _fetching = self.fetching.lock().await;
        if let Some(cached) = self.cache.read().await.as_ref() {
            let fresh = cached.fetched_at.elapsed() < cached.max_age;
            let recent = cached.fetched_at.elapsed() < MIN_REFETCH_INTERVAL;
            if (cached.keys.has(kid) && fresh) || (!cached.keys.has(kid) && recent) {
                return Ok(cached.keys.clone());
            }
        }
        let jwks = self
            .identity
            .clone()
            .get_jwks(GetJwksRequest {})
            .await?
            .into_inner();
        let keys = KeySet::new(
            jwks.issuer,
            jwks.keys
                .iter()
                .map(|k| (k.kid.as_str(), k.alg.as_str(), k.x.as_str())),
        );
        *self.cache.write().await = Some(Cached {
            keys: keys.clone(),
            fetched_at: Instant::now(),
            max_age: Duration::from_secs(u64::from(jwks.cache_max_age_seconds)),
        });
        Ok(keys)
    }
}

impl Verifier {
    /// Now, in Unix seconds, by the gateway's clock.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }
}
