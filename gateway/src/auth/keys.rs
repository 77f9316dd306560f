//! Access-token verification against a set of public keys (identity's JWKS): signature with an
//! allow-listed algorithm, `kid`, `iss`, `aud`, `exp` and `nbf`.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use onramp_kit::auth::AccessClaims;

/// Why a token was refused (never shown to the client beyond "invalid token").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Rejected {
    #[error("malformed token or header")]
    Malformed,
    #[error("algorithm not allowed")]
    Algorithm,
    #[error("no kid in the header")]
    MissingKid,
    #[error("unknown kid")]
    UnknownKid,
    #[error("signature or claims invalid: {0}")]
    Invalid(String),
    #[error("expired")]
    Expired,
    #[error("not yet valid")]
    NotYetValid,
}

/// Clock skew tolerated on `nbf` between identity and the gateway, in seconds.
const NBF_LEEWAY_SECONDS: i64 = 30;

/// The only algorithms accepted: what identity signs with. `none` and HMAC can never pass.
const ALLOWED: [Algorithm; 1] = [Algorithm::EdDSA];

/// Public keys by `kid`, with the issuer they sign for.
#[derive(Clone, Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, DecodingKey>,
    issuer: String,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl KeySet {
    /// Builds a set from `(kid, alg, x)` triples of Ed25519 JWKs; keys of other algorithms are skipped.
    pub(crate) fn new<'a>(
        issuer: String,
        jwks: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Self {
        let keys = jwks
            .into_iter()
            .filter(|(_, alg, _)| *alg == "EdDSA")
            .filter_map(|(kid, _, x)| {
                let key = DecodingKey::from_ed_components(x).ok()?;
                Some((kid.to_owned(), key))
            })
            .collect();
        Self { keys, issuer }
    }

    pub(crate) fn has(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    /// The header's `kid`, after checking the algorithm against the allow-list.
    pub(crate) fn kid_of(token: &str) -> Result<String, Rejected> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejected::Malformed)?;
        if !ALLOWED.contains(&header.alg) {
            return Err(Rejected::Algorithm);
        }
        header.kid.ok_or(Rejected::MissingKid)
    }

    /// Verifies `token` for `audience` at `now` (Unix seconds).
    pub(crate) fn verify(
        &self,
        token: &str,
        audience: &str,
        now: i64,
    ) -> Result<AccessClaims, Rejected> {
        let kid = Self::kid_of(token)?;
        let key = self.keys.get(&kid).ok_or(Rejected::UnknownKid)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.algorithms = ALLOWED.to_vec();
        validation.set_audience(&[audience]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        // Time is checked below against the gateway's clock (which tests can move), not the library's.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims = jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
            .map_err(|e| Rejected::Invalid(e.to_string()))?
            .claims;
        check_times(&claims, now)?;
        Ok(claims)
    }
}

/// Whether signed claims are within their validity window at `now` (Unix seconds, the gateway's clock).
pub(crate) fn check_times(claims: &AccessClaims, now: i64) -> Result<(), Rejected> {
    if claims.exp <= now {
        return Err(Rejected::Expired);
    }
    if claims.nbf > now + NBF_LEEWAY_SECONDS {
        return Err(Rejected::NotYetValid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    use ed25519_dalek::{SigningKey, pkcs8::EncodePrivateKey as _};
    use jsonwebtoken::{EncodingKey, Header};

    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn key() -> (SigningKey, EncodingKey) {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let der = key.to_pkcs8_der().expect("der");
        let encoding = EncodingKey::from_ed_der(der.as_bytes());
        (key, encoding)
    }

    fn claims() -> AccessClaims {
        AccessClaims {
            iss: "onramp-identity".into(),
            aud: "onramp-api".into(),
            sub: "0191c6d2-0000-7000-8000-000000000001".into(),
            iat: NOW,
            nbf: NOW,
            exp: NOW + 900,
            jti: "j".into(),
            sid: "s".into(),
            email_verified: true,
            evg: None,
        }
    }

    fn sign(encoding: &EncodingKey, kid: &str, claims: &AccessClaims) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, encoding).expect("sign")
    }

    fn set(kid: &str, key: &SigningKey) -> KeySet {
        let x = URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
        KeySet::new("onramp-identity".into(), [(kid, "EdDSA", x.as_str())])
    }

    #[test]
    fn a_valid_token_passes() {
        let (key, encoding) = key();
        let token = sign(&encoding, "k1", &claims());
        let verified = set("k1", &key).verify(&token, "onramp-api", NOW + 1);
        assert_eq!(verified, Ok(claims()));
    }

    #[test]
    fn wrong_audience_issuer_expiry_and_nbf_are_rejected() {
        let (key, encoding) = key();
        let keys = set("k1", &key);
        let token = sign(&encoding, "k1", &claims());
        assert!(matches!(
            keys.verify(&token, "other-api", NOW),
            Err(Rejected::Invalid(_))
        ));
        let foreign = AccessClaims {
            iss: "evil".into(),
            ..claims()
        };
        let token = sign(&encoding, "k1", &foreign);
        assert!(matches!(
            keys.verify(&token, "onramp-api", NOW),
            Err(Rejected::Invalid(_))
        ));
        let token = sign(&encoding, "k1", &claims());
        assert_eq!(
            keys.verify(&token, "onramp-api", NOW + 900),
            Err(Rejected::Expired)
        );
        assert_eq!(
            keys.verify(&token, "onramp-api", NOW - 60),
            Err(Rejected::NotYetValid)
        );
    }

    #[test]
    fn unknown_kid_other_key_and_forbidden_algorithms_are_rejected() {
        let (key, encoding) = key();
        let (_, other) = self::key();
        let keys = set("k1", &key);
        let token = sign(&encoding, "k2", &claims());
        assert_eq!(
            keys.verify(&token, "onramp-api", NOW),
            Err(Rejected::UnknownKid)
        );
        let forged = sign(&other, "k1", &claims());
        assert!(matches!(
            keys.verify(&forged, "onramp-api", NOW),
            Err(Rejected::Invalid(_))
        ));

        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims()).expect("json"));
        let none = format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#)
        );
        assert!(keys.verify(&none, "onramp-api", NOW).is_err());
        let mut hs = Header::new(Algorithm::HS256);
        hs.kid = Some("k1".into());
        let hmac =
            jsonwebtoken::encode(&hs, &claims(), &EncodingKey::from_secret(b"k1")).expect("sign");
        assert_eq!(
            keys.verify(&hmac, "onramp-api", NOW),
            Err(Rejected::Algorithm)
        );
    }
}
