//! Email addresses of invitees: normalised, checked loosely (the mailbox proves the rest), masked for
//! public pages.

use onramp_kit::mail::address;

use crate::domain::inputs::Invalid;

/// A normalised (trimmed, lowercased) email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Email(String);

impl Email {
    /// Parses an address (`onramp_kit::mail::address`, as identity accepts them); errors name
    /// `field`.
    pub(crate) fn parse(field: &str, value: &str) -> Result<Self, Invalid> {
        address::normalise(value)
            .map(Self)
            .map_err(|_| Invalid::new(field, format!("{field} must be a valid email address")))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Masks a stored (already normalised) address: `j***@example.com`, the first character of the
/// local part and the domain.
pub(crate) fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_masked() {
        let email = Email::parse("email", "  Jane.Doe@Example.COM ").expect("valid");
        assert_eq!(email.as_str(), "jane.doe@example.com");
        assert_eq!(mask(email.as_str()), "j***@example.com");
    }

    #[test]
    fn malformed_emails_name_the_field() {
        for bad in [
            "",
            "jane",
            "@example.com",
            "jane@",
            "jane@example",
            "ja ne@example.com",
            "a@b@c.d",
        ] {
            assert_eq!(
                Email::parse("invites[0].email", bad).expect_err(bad).field,
                "invites[0].email"
            );
        }
    }
}
