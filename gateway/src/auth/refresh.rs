//! When the gateway asks identity for its keys again, and what it verifies with meanwhile.
//!
//! The key set is fresh for the `cache_max_age_seconds` identity advertises and refetched after that
//! (or early, for a `kid` it does not know: a rotation). A failed fetch never throws the last good
//! set away: tokens signed by a key in it keep verifying while identity is unreachable, and further
//! fetches back off exponentially (1 s doubling, at most [`MAX_BACKOFF`]) instead of costing every
//! request a call to a peer that is down. Times come from the gateway's clock (milliseconds), which
//! tests can move.

use std::time::Duration;

use onramp_kit::auth::AccessClaims;

use super::{
    keys::{KeySet, Rejected},
    verified::VerifiedTokens,
};

/// The shortest time between two fetches triggered by unknown kids, so random kids cannot hammer
/// identity.
pub(super) const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(1);

/// The first wait after a failed fetch; it doubles per further failure.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The longest wait between fetches while identity stays unreachable.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What to do for one token.
#[derive(Debug)]
pub(super) enum Plan {
    /// Verify with the cached set (fresh, or the last good one while fetches back off).
    UseCached(KeySet),
    /// Ask identity now.
    Fetch,
    /// Identity is backing off and the cache cannot verify this token: retry after this long.
    Unavailable(Duration),
}

/// The cached set and the fetch schedule.
#[derive(Debug, Default)]
pub(super) struct KeyCache {
    keys: Option<KeySet>,
    fetched_at_ms: i64,
    max_age_ms: i64,
    failures: u32,
    retry_at_ms: i64,
    /// Tokens verified with `keys`; dropped with them.
    verified: VerifiedTokens,
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl KeyCache {
    /// What to do for a token naming `kid`, at `now_ms`.
    pub(super) fn plan(&self, kid: &str, now_ms: i64) -> Plan {
        let Some(keys) = &self.keys else {
            return self.fetch_unless_backing_off(now_ms);
        };
        let age = now_ms.saturating_sub(self.fetched_at_ms);
        if keys.has(kid) {
            if age < self.max_age_ms || now_ms < self.retry_at_ms {
                return Plan::UseCached(keys.clone());
            }
            return Plan::Fetch;
        }
        if age < millis(MIN_REFETCH_INTERVAL) {
            // Just fetched: the kid is not identity's. The verification answers "unknown kid".
            return Plan::UseCached(keys.clone());
        }
        self.fetch_unless_backing_off(now_ms)
    }

    fn fetch_unless_backing_off(&self, now_ms: i64) -> Plan {
        if now_ms < self.retry_at_ms {
            let wait = u64::try_from(self.retry_at_ms - now_ms).unwrap_or(0);
            return Plan::Unavailable(Duration::from_millis(wait));
        }
        Plan::Fetch
    }

    /// The claims of a token verified earlier, re-checked against `now_ms`, while the key that signed
    /// it is in a fresh set; `None` when it has to be verified (again).
    pub(super) fn verified_claims(
        &mut self,
        token: &str,
        now_ms: i64,
    ) -> Option<Result<AccessClaims, Rejected>> {
        let kid = self.verified.kid(token)?;
        let keys = self.keys.as_ref()?;
        let fresh = now_ms.saturating_sub(self.fetched_at_ms) < self.max_age_ms;
        if !fresh || !keys.has(kid) {
            return None;
        }
        self.verified.claims(token, now_ms.div_euclid(1000))
    }

    pub(super) fn remember(&mut self, token: &str, kid: &str, claims: &AccessClaims, now_ms: i64) {
        self.verified
            .remember(token, kid, claims, now_ms.div_euclid(1000));
    }

    pub(super) fn fetched(&mut self, keys: KeySet, max_age: Duration, now_ms: i64) {
        // A new set may have dropped a key: every token verifies again against it.
        self.verified.clear();
        self.keys = Some(keys);
        self.fetched_at_ms = now_ms;
        self.max_age_ms = millis(max_age);
        self.failures = 0;
        self.retry_at_ms = 0;
    }

    /// A fetch failed: back off. The set to verify `kid` with meanwhile, if the last good one has it.
    pub(super) fn failed(&mut self, kid: &str, now_ms: i64) -> Option<KeySet> {
        let backoff = FIRST_BACKOFF
            .saturating_mul(2u32.saturating_pow(self.failures.min(16)))
            .min(MAX_BACKOFF);
        self.failures = self.failures.saturating_add(1);
        self.retry_at_ms = now_ms.saturating_add(millis(backoff));
        self.keys.as_ref().filter(|keys| keys.has(kid)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX_AGE: Duration = Duration::from_secs(300);

    fn show(plan: Plan) -> String {
        match plan {
            Plan::UseCached(keys) => {
                let kid = ["k1", "k2", "k9"].into_iter().find(|kid| keys.has(kid));
                format!("cached {}", kid.unwrap_or("?"))
            }
            Plan::Fetch => "fetch".to_owned(),
            Plan::Unavailable(wait) => format!("unavailable {}ms", wait.as_millis()),
        }
    }

    fn set(kid: &str) -> KeySet {
        // A valid Ed25519 public key (all-zero bytes are not), any will do for `has`.
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        KeySet::new("onramp-identity".into(), [(kid, "EdDSA", x)])
    }

    #[test]
    fn fresh_keys_are_used_and_stale_ones_refetched() {
        let mut cache = KeyCache::default();
        assert_eq!(show(cache.plan("k1", 0)), "fetch");
        cache.fetched(set("k1"), MAX_AGE, 0);
        assert_eq!(show(cache.plan("k1", 299_999)), "cached k1");
        assert_eq!(show(cache.plan("k1", 300_000)), "fetch");
        // A new kid refetches early, but not twice within the minimum interval.
        assert_eq!(show(cache.plan("k2", 500)), "cached k1");
        assert_eq!(show(cache.plan("k2", 1_000)), "fetch");
    }

    #[test]
    fn while_identity_is_down_the_last_good_keys_verify_and_fetches_back_off() {
        let mut cache = KeyCache::default();
        cache.fetched(set("k1"), MAX_AGE, 0);
        let stale = 400_000;
        assert_eq!(show(cache.plan("k1", stale)), "fetch");
        assert!(cache.failed("k1", stale).is_some_and(|keys| keys.has("k1")));
        // Within the backoff: no fetch, the stale set still verifies.
        assert_eq!(show(cache.plan("k1", stale + 999)), "cached k1");
        assert_eq!(show(cache.plan("k1", stale + 1_000)), "fetch");
        // Each failure doubles the wait, up to the cap.
        cache.failed("k1", stale + 1_000);
        assert_eq!(show(cache.plan("k1", stale + 2_999)), "cached k1");
        assert_eq!(show(cache.plan("k1", stale + 3_000)), "fetch");
        for _ in 0..10 {
            cache.failed("k1", stale + 3_000);
        }
        let cap = millis(MAX_BACKOFF);
        assert_eq!(show(cache.plan("k1", stale + 3_000 + cap - 1)), "cached k1");
        assert_eq!(show(cache.plan("k1", stale + 3_000 + cap)), "fetch");
        // A token the cache cannot verify waits for the backoff rather than calling identity.
        assert_eq!(show(cache.plan("k9", stale + 3_000)), "unavailable 30000ms");
        // Success resets the schedule.
        cache.fetched(set("k2"), MAX_AGE, stale + 3_000 + cap);
        assert_eq!(show(cache.plan("k2", stale + 3_000 + cap)), "cached k2");
    }

    #[test]
    fn a_failed_first_fetch_has_nothing_to_fall_back_on() {
        let mut cache = KeyCache::default();
        assert!(cache.failed("k1", 0).is_none());
        assert_eq!(show(cache.plan("k1", 10)), "unavailable 990ms");
    }

    fn claims(exp: i64) -> AccessClaims {
        AccessClaims {
            iss: "onramp-identity".into(),
            aud: "onramp-api".into(),
            sub: "0191c6d2-0000-7000-8000-000000000001".into(),
            iat: 0,
            nbf: 0,
            exp,
            jti: "j".into(),
            sid: "s".into(),
            email_verified: true,
            evg: None,
        }
    }

    #[test]
    fn a_remembered_token_is_refused_at_its_exp() {
        let mut cache = KeyCache::default();
        cache.fetched(set("k1"), MAX_AGE, 0);
        cache.remember("t", "k1", &claims(100), 0);
        assert_eq!(cache.verified_claims("t", 99_999), Some(Ok(claims(100))));
        assert_eq!(
            cache.verified_claims("t", 100_000),
            Some(Err(Rejected::Expired))
        );
        // Forgotten once refused: the next request takes the full check, which refuses it too.
        assert_eq!(cache.verified_claims("t", 100_000), None);
    }

    #[test]
    fn remembered_tokens_are_not_served_after_the_keys_change_or_go_stale() {
        let mut cache = KeyCache::default();
        cache.fetched(set("k1"), MAX_AGE, 0);
        cache.remember("t", "k1", &claims(10_000), 0);
        assert!(cache.verified_claims("t", 1).is_some());
        // k1 rotated out: the token is verified again (and refused: unknown kid).
        cache.fetched(set("k2"), MAX_AGE, 2);
        assert_eq!(cache.verified_claims("t", 3), None);
        // Remembered under a kid the new set lacks (a verification racing the refetch): not served.
        cache.remember("t", "k1", &claims(10_000), 3);
        assert_eq!(cache.verified_claims("t", 4), None);
        // Stale keys: verified again, so a refetch happens.
        cache.remember("u", "k2", &claims(10_000), 4);
        assert!(cache.verified_claims("u", 5).is_some());
        assert_eq!(cache.verified_claims("u", 2 + 300_000), None);
    }
}
