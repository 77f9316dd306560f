//! argon2id password hashing with the OWASP parameters, PHC strings, and a dummy hash so that an
//! unknown account costs the same time as a known one (enumeration resistance).

use std::sync::{Arc, LazyLock};

use anyhow::Context as _;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
    password_hash::SaltString,
};

/// OWASP's argon2id recommendation: 19 MiB of memory, 2 iterations, 1 lane.
pub const OWASP_PARAMS: (u32, u32, u32) = (19_456, 2, 1);

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

/// Hashes and verifies passwords. Cheap to clone; the work runs on the blocking pool.
#[derive(Debug, Clone)]
pub(crate) struct PasswordHasher {
    argon: Arc<Argon2<'static>>,
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
        Self {
            argon: Arc::new(owasp()),
        }
    }
}

impl PasswordHasher {
    /// Hashes `password` into a PHC string (blocking work off the async threads).
    pub(crate) async fn hash(&self, password: String) -> anyhow::Result<String> {
        let argon = self.argon.clone();
        tokio::task::spawn_blocking(move || hash_with(&argon, &password))
            .await
            .context("hashing task")?
    }

    /// Verifies `password` against `phc` (or against the dummy hash when `phc` is `None`, which
    /// always answers [`Verified::No`] after doing the same work).
    pub(crate) async fn verify(
        &self,
        password: String,
        phc: Option<String>,
    ) -> anyhow::Result<Verified> {
        let argon = self.argon.clone();
        tokio::task::spawn_blocking(move || {
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
        .context("verifying task")?
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

/// Measures the hashing ceiling for the benchmark: hashes one password at OWASP parameters.
pub fn hash_once_for_benchmark(password: &str) -> anyhow::Result<String> {
    hash_with(&owasp(), password)
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
