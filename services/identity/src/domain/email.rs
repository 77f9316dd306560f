//! A normalised email address.

use crate::error::IdentityError;

/// The longest address accepted (RFC 5321 path limit).
const MAX_LEN: usize = 254;

/// An email address, trimmed and lowercased, with a plausible `local@domain.tld` shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Email(String);

impl Email {
    /// Parses a user-supplied address; errors name `field`.
    pub(crate) fn parse(raw: &str, field: &'static str) -> Result<Self, IdentityError> {
        let email = raw.trim().to_lowercase();
        let invalid = |why: &str| Err(IdentityError::invalid(field, why));
        if email.is_empty() {
            return invalid("email is required");
        }
        if email.len() > MAX_LEN {
            return invalid("email is longer than 254 characters");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return invalid("email must look like name@example.com");
        };
        let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '@';
        if local.is_empty()
            || local.len() > 64
            || local.chars().any(bad_char)
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
            || domain
                .chars()
                .any(|c| !(c.is_alphanumeric() || c == '-' || c == '.'))
        {
            return invalid("email must look like name@example.com");
        }
        Ok(Self(email))
    }

    /// The normalised address.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_accepts_plausible_addresses() {
        let email = Email::parse("  Ada@Example.COM ", "email").expect("valid");
        assert_eq!(email.as_str(), "ada@example.com");
    }

    #[test]
    fn rejects_malformed_addresses() {
        for raw in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@ex..com",
        ] {
            assert!(Email::parse(raw, "email").is_err(), "{raw:?} accepted");
        }
    }
}
