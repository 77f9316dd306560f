//! Stripe-Signature verification: HMAC-SHA256 of `"{t}.{payload}"` under each configured secret, so
//! secrets can be rotated (Stripe signs with every active secret; any matching `v1` is enough), and
//! `t` within 300 s of now.
//!
//! Computed here rather than with `async-stripe-webhook`'s `construct_event`: that one also parses
//! the whole payload into the SDK's typed event (and logs a warning per delivery whose API version
//! is not the SDK's), which was the larger part of billing's CPU per delivery — and billing parses
//! the fields it needs itself. The unit tests sign with the library, so both stay in agreement.

use hmac::{Hmac, Mac as _};
use onramp_kit::config::{ExposeSecret, SecretString};
use sha2::Sha256;

/// Stripe's default tolerance between the signature's timestamp and now.
const TOLERANCE_SECONDS: i64 = 300;

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

    /// The `reason` label of `onramp_webhook_signature_rejections_total` (the shared metric table's
    /// four; a body that is not UTF-8 cannot be what was signed, so it counts as a mismatch).
    pub(crate) fn metric_reason(self) -> Option<&'static str> {
        match self {
            Self::Missing => Some("missing"),
            Self::Malformed => Some("malformed"),
            Self::NoMatch | Self::NotUtf8 => Some("mismatch"),
            Self::TooOld => Some("expired"),
            Self::NotConfigured => None,
        }
    }
}

/// Verifies `header` over `payload` against each secret in turn, at the current time.
pub(crate) fn verify(
    payload: &[u8],
    header: &str,
    secrets: &[SecretString],
) -> Result<(), Rejection> {
    verify_at(payload, header, secrets, chrono::Utc::now().timestamp())
}

/// [`verify`] at `now` (Unix seconds). The order of the checks is the library's: a signature that
/// matches no secret is a mismatch whatever its age; only a matching one is then held to the
/// tolerance.
fn verify_at(
    payload: &[u8],
    header: &str,
    secrets: &[SecretString],
    now: i64,
) -> Result<(), Rejection> {
    if secrets.is_empty() {
        return Err(Rejection::NotConfigured);
    }
    if header.trim().is_empty() {
        return Err(Rejection::Missing);
    }
    if std::str::from_utf8(payload).is_err() {
        return Err(Rejection::NotUtf8);
    }
    let header = Header::parse(header).ok_or(Rejection::Malformed)?;
    let timestamp = header.timestamp.to_string();
    let matched = secrets.iter().any(|secret| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else {
            return false;
        };
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(payload);
        header
            .v1
            .iter()
            // Constant-time comparison (`verify_slice`), one candidate at a time.
            .any(|candidate| {
                decode_hex(candidate).is_some_and(|sig| mac.clone().verify_slice(&sig).is_ok())
            })
    });
    if !matched {
        return Err(Rejection::NoMatch);
    }
    if (now - header.timestamp).abs() > TOLERANCE_SECONDS {
        return Err(Rejection::TooOld);
    }
    Ok(())
}

/// A parsed `t=<int>,v1=<hex>[,v1=<hex>…]` header (other schemes, such as `v0`, are skipped).
struct Header<'a> {
    timestamp: i64,
    v1: Vec<&'a str>,
}

impl<'a> Header<'a> {
    /// `None` unless every pair is `key=value`, `t` is an integer and at least one `v1` is present.
    fn parse(header: &'a str) -> Option<Self> {
        let mut timestamp = None;
        let mut v1 = Vec::new();
        for pair in header.split(',') {
            match pair.trim().split_once('=')? {
                ("t", value) => timestamp = Some(value.parse::<i64>().ok()?),
                ("v1", value) if !value.is_empty() => v1.push(value),
                _ => {}
            }
        }
        (!v1.is_empty()).then_some(Self {
            timestamp: timestamp?,
            v1,
        })
    }
}

/// Lower- or upper-case hex to bytes; `None` for anything else.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use stripe_webhook::Webhook;

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
