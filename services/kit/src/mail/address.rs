//! Email addresses as every context accepts them: a signup, an invite and a sales lead must agree on
//! what an address is, or an invite could go to an address identity would refuse at signup.

/// The longest address accepted (RFC 5321 path limit).
pub const MAX_LEN: usize = 254;

/// Why an address was refused (each service words its own message and names its own field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressError {
    /// Nothing but whitespace.
    Empty,
    /// Longer than [`MAX_LEN`].
    TooLong,
    /// Not `local@domain.tld`.
    Malformed,
}

/// Trims and lowercases `raw` and checks a plausible `local@domain.tld` shape: one `@`, a local part
/// of 1–64 characters without spaces or controls, a dotted domain of letters, digits, `-` and `.`.
pub fn normalise(raw: &str) -> Result<String, AddressError> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err(AddressError::Empty);
    }
    if email.len() > MAX_LEN {
        return Err(AddressError::TooLong);
    }
    let (local, domain) = email.rsplit_once('@').ok_or(AddressError::Malformed)?;
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
        return Err(AddressError::Malformed);
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_lowercased_and_shape_checked() {
        assert_eq!(
            normalise("  Ada@Example.COM ").as_deref(),
            Ok("ada@example.com")
        );
        assert_eq!(normalise(" "), Err(AddressError::Empty));
        assert_eq!(
            normalise(&format!("{}@example.com", "a".repeat(250))),
            Err(AddressError::TooLong)
        );
        let long_local = format!("{}@example.com", "a".repeat(65));
        for bad in [
            "ada.example.com",
            "@example.com",
            "ada@localhost",
            "ada@.example.com",
            "ada@example.com.",
            "ada@mail..example.com",
            "ada@exa_mple.com",
            "a\tda@example.com",
            "a@b@c.d",
            long_local.as_str(),
        ] {
            assert_eq!(normalise(bad), Err(AddressError::Malformed), "{bad:?}");
        }
    }
}
