//! The keys that sign access tokens, and their public half as a JWKS.
//!
//! Several keys can be live: the first signs, the rest only verify (their tokens stay valid until they
//! expire), which is how a key is rotated without logging anybody out.

use anyhow::{Context as _, bail};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{
    SigningKey,
    pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use onramp_kit::{
    auth::{ACCESS_TOKEN_ALGORITHM, AccessClaims},
    config::{ExposeSecret as _, is_production},
};
use sha2::{Digest as _, Sha256};

use crate::config::Config;

/// One Ed25519 key: its id, its signing half and its public half (JWK `x`).
struct Key {
    kid: String,
    encoding: EncodingKey,
    x: String,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A public key as JWKS publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicJwk {
    pub(crate) kid: String,
    pub(crate) x: String,
}

/// The live keys, the signing key first.
#[derive(Debug)]
pub(crate) struct SigningKeys {
    keys: Vec<Key>,
}

impl SigningKeys {
    /// Keys from `SIGNING_KEYS_PEM`, `SIGNING_KEYS_FILE` or `SIGNING_KEYS_DIR` (first set wins); in
    /// development, two fresh keys.
    pub(crate) fn from_config(config: &Config) -> anyhow::Result<Self> {
        let pem = if let Some(pem) = &config.signing_keys_pem {
            Some(pem.expose_secret().to_owned())
        } else if let Some(path) = &config.signing_keys_file {
            Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading SIGNING_KEYS_FILE {}", path.display()))?,
            )
        } else if let Some(dir) = &config.signing_keys_dir {
            read_key_dir(dir)?
        } else {
            None
        };
        match pem {
            Some(pem) => Self::from_pem_bundle(&pem),
            None if is_production() => {
                bail!(
                    "SIGNING_KEYS_FILE or SIGNING_KEYS_PEM is required when ONRAMP_ENV=production"
                )
            }
            None => Self::generate(2),
        }
    }

    /// Parses every `PRIVATE KEY` block of a PEM bundle (PKCS#8 Ed25519), in order.
    pub(crate) fn from_pem_bundle(bundle: &str) -> anyhow::Result<Self> {
        const END: &str = "-----END PRIVATE KEY-----";
        let mut keys = Vec::new();
        for block in bundle.split_inclusive(END).filter(|b| b.contains(END)) {
            let key = SigningKey::from_pkcs8_pem(block.trim())
                .map_err(|e| anyhow::anyhow!("signing key is not a PKCS#8 Ed25519 PEM: {e}"))?;
            keys.push(Key::new(&key)?);
        }
        if keys.is_empty() {
            bail!("the signing key bundle holds no PRIVATE KEY block");
        }
        Ok(Self { keys })
    }

    /// `count` fresh keys (development and tests only).
    pub(crate) fn generate(count: usize) -> anyhow::Result<Self> {
        let keys = (0..count)
            .map(|_| Key::new(&SigningKey::generate(&mut rand::rngs::OsRng)))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { keys })
    }

    /// Signs `claims` with the newest key.
    pub(crate) fn sign(&self, claims: &AccessClaims) -> anyhow::Result<String> {
        let key = self.keys.first().context("no signing key")?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        debug_assert_eq!(ACCESS_TOKEN_ALGORITHM, "EdDSA");
        jsonwebtoken::encode(&header, claims, &key.encoding).context("signing an access token")
    }

    /// Every live public key, the signing key first.
    pub(crate) fn public(&self) -> Vec<PublicJwk> {
        self.keys
            .iter()
            .map(|key| PublicJwk {
                kid: key.kid.clone(),
                x: key.x.clone(),
            })
            .collect()
    }
}

/// Every non-hidden file of `dir`, greatest name first, concatenated; `None` when there is none
/// (an optional Secret that is not there yet).
fn read_key_dir(dir: &std::path::Path) -> anyhow::Result<Option<String>> {
    if !dir.exists() {
        return Ok(None);
    }
    let mut files = std::fs::read_dir(dir)
        .with_context(|| format!("reading SIGNING_KEYS_DIR {}", dir.display()))?
        .filter_map(Result::ok)
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect::<Vec<_>>();
    files.sort_by(|a, b| b.cmp(a));
    let mut bundle = String::new();
    for path in files {
        bundle.push_str(
            &std::fs::read_to_string(&path)
                .with_context(|| format!("reading signing key {}", path.display()))?,
        );
        bundle.push('\n');
    }
    Ok((!bundle.is_empty()).then_some(bundle))
}

impl Key {
    fn new(key: &SigningKey) -> anyhow::Result<Self> {
        let public = key.verifying_key().to_bytes();
        // A kid derived from the public key is stable across restarts for configured keys.
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(public)[..12]);
        let der = key
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("encoding a signing key: {e}"))?;
        Ok(Self {
            kid,
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            x: URL_SAFE_NO_PAD.encode(public),
        })
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::pkcs8::{EncodePrivateKey as _, spki::der::pem::LineEnding};

    use super::*;

    #[test]
    fn a_pem_bundle_keeps_its_order_and_the_first_key_signs() {
        let pem = |key: &SigningKey| key.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string();
        let (a, b) = (
            SigningKey::generate(&mut rand::rngs::OsRng),
            SigningKey::generate(&mut rand::rngs::OsRng),
        );
        let keys = SigningKeys::from_pem_bundle(&format!("{}{}", pem(&a), pem(&b))).expect("keys");
        let public = keys.public();
        assert_eq!(public.len(), 2);
        assert_eq!(
            public[0].x,
            URL_SAFE_NO_PAD.encode(a.verifying_key().to_bytes())
        );
        let claims = AccessClaims {
            iss: "i".into(),
            aud: "a".into(),
            sub: "s".into(),
            iat: 0,
            nbf: 0,
            exp: 1,
            jti: "j".into(),
            sid: "x".into(),
            email_verified: true,
            evg: None,
        };
        let token = keys.sign(&claims).expect("sign");
        let header = jsonwebtoken::decode_header(&token).expect("header");
        assert_eq!(header.kid.as_deref(), Some(public[0].kid.as_str()));
        assert!(SigningKeys::from_pem_bundle("nothing here").is_err());
    }
}

#[cfg(test)]
mod dir_tests {
    use ed25519_dalek::pkcs8::{EncodePrivateKey as _, spki::der::pem::LineEnding};

    use super::*;

    #[test]
    fn a_key_directory_signs_with_the_greatest_file_name() {
        let dir = std::env::temp_dir().join(format!("onramp-keys-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("..data-like")).expect("dir");
        let (old, new) = (
            SigningKey::generate(&mut rand::rngs::OsRng),
            SigningKey::generate(&mut rand::rngs::OsRng),
        );
        let pem = |k: &SigningKey| k.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string();
        std::fs::write(dir.join("2026-01-01.pem"), pem(&old)).expect("write");
        std::fs::write(dir.join("2026-06-01.pem"), pem(&new)).expect("write");
        let bundle = read_key_dir(&dir).expect("read").expect("keys");
        let keys = SigningKeys::from_pem_bundle(&bundle).expect("parse");
        let public = keys.public();
        assert_eq!(public.len(), 2);
        assert_eq!(
            public[0].x,
            URL_SAFE_NO_PAD.encode(new.verifying_key().to_bytes())
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
