//! Request values that are parsed once, at the gRPC edge.

use uuid::Uuid;

/// Why a value was refused: the field and a message safe to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) field: String,
    pub(crate) message: String,
}

impl Invalid {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A UUID from a request field.
pub(crate) fn parse_id(field: &str, value: &str) -> Result<Uuid, Invalid> {
    Uuid::parse_str(value.trim())
        .map_err(|_| Invalid::new(field, format!("{field} must be a UUID")))
}

/// A workspace display name: trimmed, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TenantName(String);

impl TenantName {
    pub(crate) fn parse(value: &str) -> Result<Self, Invalid> {
        let trimmed = value.trim();
        let length = trimmed.chars().count();
        if length == 0 || length > 100 {
            return Err(Invalid::new("name", "name must be 1 to 100 characters"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(Invalid::new(
                "name",
                "name must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A client's idempotency key: 1–255 printable ASCII characters (scoped to the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdempotencyKey(String);

impl IdempotencyKey {
    pub(crate) fn parse(value: &str) -> Result<Self, Invalid> {
        let printable = value.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if value.is_empty() || value.len() > 255 || !printable {
            return Err(Invalid::new(
                "idempotency_key",
                "the idempotency key must be 1 to 255 printable ASCII characters without spaces",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// The plan hint passed to billing: a plan id or code, or empty for the default plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlanHint(String);

impl PlanHint {
    pub(crate) fn parse(value: &str) -> Result<Self, Invalid> {
        let trimmed = value.trim();
        if trimmed.len() > 100 || trimmed.chars().any(char::is_control) {
            return Err(Invalid::new("plan_id", "plan_id must be a plan id or code"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            TenantName::parse("  Acme ").map(|n| n.0),
            Ok("Acme".to_owned())
        );
        assert!(TenantName::parse("   ").is_err());
        assert!(TenantName::parse(&"x".repeat(101)).is_err());
        assert!(TenantName::parse("a\u{7}b").is_err());
    }

    #[test]
    fn idempotency_keys_are_printable_ascii() {
        assert!(IdempotencyKey::parse("0b9f8c1e-4d6a-4c59-9d33-2f1e7c8a9b10").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse("caf\u{e9}").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
    }
}
