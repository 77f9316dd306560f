//! The `Idempotency-Key` header: required on `POST /v1/tenants`, 1–255 printable ASCII characters
//! without spaces (a UUID v4 is recommended). Missing or malformed -> 400 IDEMPOTENCY_KEY_INVALID.

use axum::extract::FromRequestParts;
use http::request::Parts;
use onramp_kit::{ApiError, Code};

use crate::problem::Problem;

/// A well-formed idempotency key from the request header.
#[derive(Debug, Clone)]
pub(crate) struct IdempotencyKey(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let invalid = |message: &str| {
            Problem(
                ApiError::new(Code::IdempotencyKeyInvalid, message).with_field("Idempotency-Key"),
            )
        };
        let value = parts.headers.get("idempotency-key").map(|v| v.as_bytes());
        let value = value.ok_or_else(|| invalid("the Idempotency-Key header is required"))?;
        if value.is_empty() || value.len() > 255 || !value.iter().all(|b| (0x21..=0x7e).contains(b))
        {
            return Err(invalid(
                "the Idempotency-Key header must be 1 to 255 printable ASCII characters without spaces",
            ));
        }
        Ok(Self(String::from_utf8_lossy(value).into_owned()))
    }
}
