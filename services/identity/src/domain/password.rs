//! The password policy for new passwords (signup, reset).

use std::{collections::HashSet, sync::LazyLock};

use crate::error::IdentityError;

/// The shortest password accepted, in characters (Unicode scalar values).
pub(crate) const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in bytes of UTF-8 (bounds the hashing work an attacker can ask for).
const MAX_PASSWORD_BYTES: usize = 128;

/// Passwords too common to allow, one per line, shipped in the repository.
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});

/// A password that satisfies the policy. Never logged: `Debug` is redacted.
#[derive(Clone)]
pub(crate) struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

impl NewPassword {
    /// Checks the policy; errors name `field`.
    pub(crate) fn parse(raw: &str, field: &'static str) -> Result<Self, IdentityError> {
        if raw.chars().count() < MIN_PASSWORD_CHARS {
            return Err(IdentityError::invalid(
                field,
                format!("password must be at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        if raw.len() > MAX_PASSWORD_BYTES {
            return Err(IdentityError::invalid(
                field,
                format!("password must be at most {MAX_PASSWORD_BYTES} bytes"),
            ));
        }
        if COMMON.contains(raw.to_lowercase().as_str()) {
            return Err(IdentityError::invalid(
                field,
                "password is too common; choose another",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password itself, for hashing only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforces_length_and_the_common_list() {
        assert!(NewPassword::parse("short", "password").is_err());
        assert!(NewPassword::parse(&"é".repeat(65), "password").is_err());
        assert!(NewPassword::parse("password1234", "password").is_err());
        assert!(NewPassword::parse("correct horse battery", "password").is_ok());
    }
}
