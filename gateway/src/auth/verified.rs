//! Tokens whose signature the gateway already checked, so a client's next requests skip the
//! Ed25519 verification (the largest single cost of a proxied request in the `gateway_hop` profile).
//!
//! Keyed by the whole token (the map compares full strings, so no two tokens can share an entry).
//! An entry only vouches for the signature and the static claims (`iss`, `aud`, algorithm): its
//! times are checked again on every hit, so a cached token past its `exp` is refused as any other,
//! and the whole map is dropped whenever the key set is refetched, so a token whose key identity
//! rotated out is verified again (and refused) against the new set.

use std::collections::HashMap;

use onramp_kit::auth::AccessClaims;

use super::keys::{Rejected, check_times};

/// At most this many tokens are remembered; about 1 KiB each.
const MAX_ENTRIES: usize = 4096;

/// A verified token's claims and the `kid` of the key that signed it.
struct Entry {
    kid: Box<str>,
    claims: AccessClaims,
}

/// The verified tokens of the current key set.
#[derive(Default)]
pub(super) struct VerifiedTokens {
    entries: HashMap<Box<str>, Entry>,
}

/// Only the count: tokens never go to logs.
impl std::fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedTokens")
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl VerifiedTokens {
    /// The signing `kid` of a remembered `token`, for the caller to check the key is still trusted.
    pub(super) fn kid(&self, token: &str) -> Option<&str> {
        self.entries.get(token).map(|entry| &*entry.kid)
    }

    /// A remembered token's claims if they are still valid at `now` (Unix seconds); an expired one is
    /// forgotten and refused.
    pub(super) fn claims(
        &mut self,
        token: &str,
        now: i64,
    ) -> Option<Result<AccessClaims, Rejected>> {
        let entry = self.entries.get(token)?;
        match check_times(&entry.claims, now) {
            Ok(()) => Some(Ok(entry.claims.clone())),
            Err(Rejected::Expired) => {
                self.entries.remove(token);
                Some(Err(Rejected::Expired))
            }
            Err(other) => Some(Err(other)),
        }
    }

    /// Remembers a token that just verified with the key `kid`.
    pub(super) fn remember(&mut self, token: &str, kid: &str, claims: &AccessClaims, now: i64) {
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.retain(|_, entry| entry.claims.exp > now);
        }
        if self.entries.len() >= MAX_ENTRIES {
            // Full of live tokens: start over rather than track recency; they re-verify once each.
            self.entries.clear();
        }
        self.entries.insert(
            token.into(),
            Entry {
                kid: kid.into(),
                claims: claims.clone(),
            },
        );
    }

    /// Forgets every token (the key set changed).
    pub(super) fn clear(&mut self) {
        self.entries.clear();
    }
}
