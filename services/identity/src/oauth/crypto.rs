//! Encryption at rest for providers' refresh tokens: AES-256-GCM, a random nonce per value.

use aes_gcm::{
    Aes256Gcm, KeyInit as _,
    aead::{Aead as _, AeadCore as _, OsRng},
};
use anyhow::{Context as _, bail};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use onramp_kit::config::{ExposeSecret as _, SecretString, is_production};

/// Encrypts and decrypts stored provider tokens.
#[derive(Clone)]
pub(crate) struct TokenCipher {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher(..)")
    }
}

#[cfg(test)]
const NONCE_LEN: usize = 12;

impl TokenCipher {
    /// From `OAUTH_TOKEN_KEY` (base64 of 32 bytes); a random key in development, or when no provider
    /// is configured (nothing will be encrypted then).
    pub(crate) fn from_config(key: Option<&SecretString>, needed: bool) -> anyhow::Result<Self> {
        let key = match key {
            Some(key) => STANDARD
                .decode(key.expose_secret().trim())
                .context("OAUTH_TOKEN_KEY is not base64")?,
            None if needed && is_production() => {
                bail!("OAUTH_TOKEN_KEY is required when ONRAMP_ENV=production")
            }
            None => Aes256Gcm::generate_key(OsRng).to_vec(),
        };
        let cipher = Aes256Gcm::new_from_slice(&key)
            .map_err(|_| anyhow::anyhow!("OAUTH_TOKEN_KEY must be 32 bytes"))?;
        Ok(Self { cipher })
    }

    /// `nonce || ciphertext`.
    pub(crate) fn encrypt(&self, plaintext: &str) -> anyhow::Result<Vec<u8>> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .map_err(|_| anyhow::anyhow!("encrypting a provider token"))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    /// The plaintext of [`TokenCipher::encrypt`]'s output. Only tests read tokens back today: no
    /// feature calls a provider's API on the user's behalf yet.
    #[cfg(test)]
    pub(crate) fn decrypt(&self, stored: &[u8]) -> anyhow::Result<String> {
        if stored.len() < NONCE_LEN {
            bail!("stored token too short");
        }
        let (nonce, sealed) = stored.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(aes_gcm::Nonce::from_slice(nonce), sealed)
            .map_err(|_| anyhow::anyhow!("decrypting a provider token"))?;
        String::from_utf8(plain).context("provider token is not UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_never_stores_the_plaintext() {
        let cipher = TokenCipher::from_config(None, true).expect("dev key");
        let sealed = cipher.encrypt("provider-refresh-token").expect("encrypt");
        assert!(!sealed.windows(8).any(|w| w == b"provider"));
        assert_eq!(
            cipher.decrypt(&sealed).expect("decrypt"),
            "provider-refresh-token"
        );
        let other = TokenCipher::from_config(None, true).expect("dev key");
        assert!(other.decrypt(&sealed).is_err());
    }
}
