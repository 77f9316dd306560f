//! argon2id password hashing with the OWASP parameters, PHC strings, and a dummy hash so that an
//! unknown account costs the same time as a known one (enumeration resistance).

use std::{
    sync::{Arc, LazyLock},
    time::Duration,
};

use anyhow::Context as _;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
    password_hash::SaltString,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// OWASP's argon2id recommendation: 19 MiB of memory, 2 iterations, 1 lane.
pub(crate) const OWASP_PARAMS: (u32, u32, u32) = (19_456, 2, 1);

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verified {
    /// Wrong password.
    No,
    /// Right password, hash current.
    Yes,
    /// Right password, but hashed with other parameters: store this new hash.
    YesRehashed(String),
}

/// Why hashing did not happen.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HashError {
    /// Every hashing slot stayed busy for the whole queue wait: the replica is saturated, retry later.
    #[error("password hashing is saturated")]
    Busy,
    /// The hashing itself failed (a bug or a corrupt stored hash).
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// How many hashes may run at once and how long a request waits for a slot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HashLimits {
    /// Concurrent hashes (each takes [`OWASP_PARAMS`]' 19 MiB).
    pub(crate) slots: usize,
    /// How long a request waits for a slot before it is answered UNAVAILABLE.
    pub(crate) queue_wait: Duration,
}

impl HashLimits {
    /// One slot per core, but never more than `memory_limit_mib` of argon2 memory at once (at
    /// least one slot).
    pub(crate) fn from_resources(
        cores: usize,
        memory_limit_mib: u32,
        queue_wait: Duration,
    ) -> Self {
        let per_hash_mib = OWASP_PARAMS.0.div_ceil(1024);
        let by_memory = usize::try_from(memory_limit_mib / per_hash_mib).unwrap_or(usize::MAX);
        Self {
            slots: cores.min(by_memory).max(1),
            queue_wait,
        }
    }
}

/// Hashes and verifies passwords. Cheap to clone; the work runs on the blocking pool, at most
/// [`HashLimits::slots`] at a time per replica, so a flood of password requests cannot take all
/// the memory or every blocking thread.
#[derive(Debug, Clone)]
pub(crate) struct PasswordHasher {
    argon: Arc<Argon2<'static>>,
    slots: Arc<Semaphore>,
    queue_wait: Duration,
}

/// A valid PHC string for a password nobody knows, verified when the account does not exist.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_with(&owasp(), "onramp dummy password, never matches")
        .unwrap_or_else(|_| String::from("$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
});

fn owasp() -> Argon2<'static> {
    let (m, t, p) = OWASP_PARAMS;
    // The constants are valid argon2 parameters; `default()` is only a fallback that cannot trigger.
    let params = Params::new(m, t, p, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_with(argon: &Argon2<'_>, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Ok(argon
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2 hash: {e}"))?
        .to_string())
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new(HashLimits {
            slots: 2,
            queue_wait: Duration::from_secs(2),
        })
    }
}

impl PasswordHasher {
    pub(crate) fn new(limits: HashLimits) -> Self {
        Self {
            argon: Arc::new(owasp()),
            slots: Arc::new(Semaphore::new(limits.slots.max(1))),
            queue_wait: limits.queue_wait,
        }
    }

    /// A hashing slot, or [`HashError::Busy`] when none frees up within the queue wait.
    /// The wait is recorded (`onramp_password_hash_wait_seconds`) so saturation shows before it
    /// refuses (`onramp_password_hash_rejections_total`).
    async fn slot(&self) -> Result<OwnedSemaphorePermit, HashError> {
        let started = std::time::Instant::now();
        let slot = tokio::time::timeout(self.queue_wait, self.slots.clone().acquire_owned()).await;
        metrics::histogram!("onramp_password_hash_wait_seconds")
            .record(started.elapsed().as_secs_f64());
        match slot {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => {
                metrics::counter!("onramp_password_hash_rejections_total").increment(1);
                Err(HashError::Busy)
            }
        }
    }

    /// Hashes `password` into a PHC string (blocking work off the async threads).
    pub(crate) async fn hash(&self, password: String) -> Result<String, HashError> {
        let permit = self.slot().await?;
        let argon = self.argon.clone();
        let hashed = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
            let _permit = permit;
            hash_with(&argon, &password)
        })
        .await
        .context("hashing task")??;
        Ok(hashed)
    }

    /// Verifies `password` against `phc` (or against the dummy hash when `phc` is `None`, which
    /// always answers [`Verified::No`] after doing the same work).
    pub(crate) async fn verify(
        &self,
        password: String,
        phc: Option<String>,
    ) -> Result<Verified, HashError> {
        let permit = self.slot().await?;
        let argon = self.argon.clone();
        let verified = tokio::task::spawn_blocking(move || -> anyhow::Result<Verified> {
            let _permit = permit;
            let known = phc.is_some();
            let phc = phc.unwrap_or_else(|| DUMMY_HASH.clone());
            let parsed =
                PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
            let matches = argon.verify_password(password.as_bytes(), &parsed).is_ok();
            if !(known && matches) {
                return Ok(Verified::No);
            }
            if is_current(&parsed, argon.params()) {
                Ok(Verified::Yes)
            } else {
                Ok(Verified::YesRehashed(hash_with(&argon, &password)?))
            }
        })
        .await
        .context("verifying task")??;
        Ok(verified)
    }
}

/// Whether a stored hash already uses argon2id with our parameters.
fn is_current(hash: &PasswordHash<'_>, wanted: &Params) -> bool {
    hash.algorithm == Algorithm::Argon2id.ident()
        && Params::try_from(hash).is_ok_and(|params| {
            params.m_cost() == wanted.m_cost()
                && params.t_cost() == wanted.t_cost()
                && params.p_cost() == wanted.p_cost()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_right_rejects_wrong_and_rehashes_old_parameters() {
        let hasher = PasswordHasher::default();
        let phc = hasher
            .hash("correct horse battery".into())
            .await
            .expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let ok = hasher
            .verify("correct horse battery".into(), Some(phc.clone()))
            .await;
        assert_eq!(ok.expect("verify"), Verified::Yes);
        let wrong = hasher
            .verify("wrong".into(), Some(phc))
            .await
            .expect("verify");
        assert_eq!(wrong, Verified::No);

        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).expect("params"),
        );
        let old = hash_with(&weak, "correct horse battery").expect("old hash");
        match hasher
            .verify("correct horse battery".into(), Some(old))
            .await
            .expect("verify")
        {
            Verified::YesRehashed(new) => assert!(new.contains("m=19456,t=2,p=1")),
            other => panic!("expected a rehash, got {other:?}"),
        }
    }

    #[test]
    fn slots_follow_cores_and_the_memory_limit() {
        let wait = Duration::from_secs(1);
        assert_eq!(HashLimits::from_resources(8, 1024, wait).slots, 8);
        assert_eq!(HashLimits::from_resources(8, 64, wait).slots, 3);
        assert_eq!(HashLimits::from_resources(8, 1, wait).slots, 1);
    }

    #[tokio::test]
    async fn a_saturated_hasher_answers_busy_after_the_queue_wait() {
        let hasher = PasswordHasher::new(HashLimits {
            slots: 1,
            queue_wait: Duration::from_millis(20),
        });
        let held = hasher.slot().await.expect("the only slot");
        let busy = hasher.hash("correct horse battery".into()).await;
        assert!(matches!(busy, Err(HashError::Busy)), "{busy:?}");
        drop(held);
        assert!(hasher.hash("correct horse battery".into()).await.is_ok());
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        let hasher = PasswordHasher::default();
        let answer = hasher
            .verify("anything".into(), None)
            .await
            .expect("verify");
        assert_eq!(answer, Verified::No);
    }
}
