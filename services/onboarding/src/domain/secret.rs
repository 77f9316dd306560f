//! Random single-use secrets (onboarding tokens, Connect `state`), shown once and stored as hashes.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// A freshly generated secret: 32 random bytes, base64url without padding (43 characters).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// A new random secret.
    pub fn generate() -> Self {
        let mut bytes = [0_u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The secret itself, to hand to the user exactly once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database keeps.
    pub fn hash(&self) -> Vec<u8> {
        hash(&self.0)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The SHA-256 of a presented secret, for lookups (the secrets have 256 bits of entropy, so a plain
/// hash is enough; no slow KDF needed).
pub fn hash(presented: &str) -> Vec<u8> {
    Sha256::digest(presented.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_43_url_safe_characters_and_distinct() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert_eq!(a.expose().len(), 43);
        assert!(
            a.expose()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.hash(), hash(a.expose()));
        assert_eq!(format!("{a:?}"), "Secret(..)");
    }
}
