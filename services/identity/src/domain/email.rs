//! A normalised email address.

use onramp_kit::mail::address::{self, AddressError};

use crate::error::IdentityError;

/// An email address, trimmed and lowercased, with a plausible `local@domain.tld` shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Email(String);

impl Email {
    /// Parses a user-supplied address; errors name `field`.
    pub(crate) fn parse(raw: &str, field: &'static str) -> Result<Self, IdentityError> {
        address::normalise(raw).map(Self).map_err(|error| {
            let why = match error {
                AddressError::Empty => "email is required",
                AddressError::TooLong => "email is longer than 254 characters",
                AddressError::Malformed => "email must look like name@example.com",
            };
            IdentityError::invalid(field, why)
        })
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
