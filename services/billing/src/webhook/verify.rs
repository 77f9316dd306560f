//! Stripe-Signature verification with `async-stripe-webhook`, tried once per configured secret so
//! secrets can be rotated (Stripe signs with every active secret; any matching `v1` is enough).

use onramp_kit::config::{ExposeSecret, SecretString};
use stripe_webhook::{Webhook, WebhookError};

/// Why a delivery was refused; the label is what the rejection counter is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// No Stripe-Signature header at all.
    Missing,
    /// The body is not UTF-8, so it cannot be a signed Stripe payload.
    NotUtf8,
    /// The header does not parse (no `t`, a bad timestamp, no `v1`).
    Malformed,
    /// No `v1` matched any configured secret (wrong secret, changed body, `v0` only).
    NoMatch,
    /// A `v1` matched, but the timestamp is more than 300 s away from now.
    TooOld,
    /// No secret is configured for this endpoint.
    NotConfigured,
}

impl Rejection {
    /// The counter key (and the operator-facing reason).
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Missing => "missing_header",
            Self::NotUtf8 => "payload_not_utf8",
            Self::Malformed => "malformed_header",
            Self::NoMatch => "no_matching_signature",
            Self::TooOld => "timestamp_out_of_tolerance",
            Self::NotConfigured => "no_secret_configured",
        }
    }
}

/// Verifies `header` over `payload` against each secret in turn.
///
/// The library checks the signature and the 300 s tolerance *before* it parses the payload into its
/// typed events; a `BadParse` therefore means "verified, but an object shape the typed model does not
/// know", which is fine here: billing reads the fields it needs from the raw JSON itself.
pub(crate) fn verify(
    payload: &[u8],
    header: &str,
    secrets: &[SecretString],
) -> Result<(), Rejection> {
    if secrets.is_empty() {
        return Err(Rejection::NotConfigured);
    }
    if header.trim().is_empty() {
        return Err(Rejection::Missing);
    }
    let payload = std::str::from_utf8(payload).map_err(|_| Rejection::NotUtf8)?;
    if !well_formed(header) {
        return Err(Rejection::Malformed);
    }
    for secret in secrets {
        match Webhook::construct_event(payload, header, secret.expose_secret()) {
            Ok(_) | Err(WebhookError::BadParse(_)) => return Ok(()),
            Err(WebhookError::BadTimestamp(_)) => return Err(Rejection::TooOld),
            Err(WebhookError::BadHeader(_)) => return Err(Rejection::Malformed),
            Err(WebhookError::BadSignature | WebhookError::BadKey) => continue,
        }
    }
    Err(Rejection::NoMatch)
}

/// `t=<int>` and at least one `v1=` present: tells "malformed" apart from "no match" for operators (the
/// library reports both as a bad signature).
fn well_formed(header: &str) -> bool {
    let mut timestamp = false;
    let mut v1 = false;
    for pair in header.split(',') {
        match pair.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().is_ok(),
            Some(("v1", value)) => v1 |= !value.is_empty(),
            Some(_) => {}
            None => return false,
        }
    }
    timestamp && v1
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str =
        r#"{"id":"evt_1","object":"event","type":"ping","created":1,"data":{"object":{}}}"#;

    fn secrets(values: &[&str]) -> Vec<SecretString> {
        values.iter().map(|s| SecretString::from(*s)).collect()
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn a_valid_signature_with_any_configured_secret_verifies() {
        let header = Webhook::generate_test_header(BODY, "whsec_new", Some(now()));
        assert_eq!(
            verify(
                BODY.as_bytes(),
                &header,
                &secrets(&["whsec_old", "whsec_new"])
            ),
            Ok(())
        );
    }

    #[test]
    fn the_signature_cases_are_refused_with_their_reason() {
        let good = Webhook::generate_test_header(BODY, "whsec_a", Some(now()));
        let keys = secrets(&["whsec_a"]);
        let wrong = Webhook::generate_test_header(BODY, "whsec_b", Some(now()));
        assert_eq!(
            verify(BODY.as_bytes(), &wrong, &keys),
            Err(Rejection::NoMatch)
        );
        let changed = BODY.replace("ping", "pong");
        assert_eq!(
            verify(changed.as_bytes(), &good, &keys),
            Err(Rejection::NoMatch)
        );
        let old = Webhook::generate_test_header(BODY, "whsec_a", Some(now() - 301));
        assert_eq!(verify(BODY.as_bytes(), &old, &keys), Err(Rejection::TooOld));
        let edge = Webhook::generate_test_header(BODY, "whsec_a", Some(now() - 290));
        assert_eq!(verify(BODY.as_bytes(), &edge, &keys), Ok(()));
        assert_eq!(verify(BODY.as_bytes(), "", &keys), Err(Rejection::Missing));
        assert_eq!(
            verify(BODY.as_bytes(), "garbage", &keys),
            Err(Rejection::Malformed)
        );
        let v0 = good.replace(",v1=", ",v0=");
        assert_eq!(
            verify(BODY.as_bytes(), &v0, &keys),
            Err(Rejection::Malformed)
        );
        let two = format!(
            "{},v1={}",
            wrong,
            &good[good.find("v1=").map_or(0, |i| i + 3)..]
        );
        assert_eq!(verify(BODY.as_bytes(), &two, &keys), Ok(()));
        assert_eq!(
            verify(BODY.as_bytes(), &good, &[]),
            Err(Rejection::NotConfigured)
        );
        assert_eq!(verify(&[0xff, 0xfe], &good, &keys), Err(Rejection::NotUtf8));
    }
}
