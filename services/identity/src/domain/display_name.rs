//! The name shown to teammates.

use crate::error::IdentityError;

/// A trimmed display name of 1–100 characters without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DisplayName(String);

impl DisplayName {
    /// Parses a user-supplied name; errors name `display_name`.
    pub(crate) fn parse(raw: &str) -> Result<Self, IdentityError> {
        let name = raw.trim();
        let count = name.chars().count();
        if count == 0 {
            return Err(IdentityError::invalid(
                "display_name",
                "display name is required",
            ));
        }
        if count > 100 {
            return Err(IdentityError::invalid(
                "display_name",
                "display name is longer than 100 characters",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(IdentityError::invalid(
                "display_name",
                "display name contains control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds_the_name() {
        assert_eq!(DisplayName::parse(" Ada ").expect("valid").as_str(), "Ada");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert!(DisplayName::parse("a\u{7}b").is_err());
    }
}
