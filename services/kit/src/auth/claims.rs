//! The claims of an access token (see `proto/onramp/identity/v1/identity.proto`, file header).

use serde::{Deserialize, Serialize};

/// The one JOSE `alg` access tokens are signed with; verifiers accept nothing else.
pub const ACCESS_TOKEN_ALGORITHM: &str = "EdDSA";

/// The payload of an access token. Issued by identity, verified by the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: identity's configured issuer.
    pub iss: String,
    /// Audience: the API the token is for.
    pub aud: String,
    /// The user id (UUID).
    pub sub: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before (Unix seconds).
    pub nbf: i64,
    /// Expires (Unix seconds).
    pub exp: i64,
    /// A unique token id (UUID).
    pub jti: String,
    /// The refresh-token family (session) id (UUID).
    pub sid: String,
    /// Whether the user's email is verified.
    pub email_verified: bool,
    /// When the verification grace period ends (Unix seconds); absent once verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evg: Option<i64>,
}

impl AccessClaims {
    /// Whether the verification wall applies at `now` (Unix seconds): unverified and past the grace.
    pub fn verification_required(&self, now: i64) -> bool {
        !self.email_verified && self.evg.is_some_and(|grace_end| grace_end <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(email_verified: bool, evg: Option<i64>) -> AccessClaims {
        AccessClaims {
            iss: "i".into(),
            aud: "a".into(),
            sub: "s".into(),
            iat: 0,
            nbf: 0,
            exp: 10,
            jti: "j".into(),
            sid: "x".into(),
            email_verified,
            evg,
        }
    }

    #[test]
    fn the_wall_applies_only_to_unverified_users_past_their_grace() {
        assert!(!claims(true, None).verification_required(100));
        assert!(!claims(false, Some(101)).verification_required(100));
        assert!(claims(false, Some(100)).verification_required(100));
    }
}
