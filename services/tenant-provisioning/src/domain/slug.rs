//! Workspace slugs: the URL handle, validated and never a reserved word.

use crate::domain::inputs::Invalid;

/// Words a tenant may never take: they collide with routes, hosts or support addresses.
const RESERVED: &[&str] = &[
    "about",
    "account",
    "admin",
    "administrator",
    "api",
    "app",
    "apps",
    "assets",
    "auth",
    "billing",
    "blog",
    "cdn",
    "dashboard",
    "dev",
    "docs",
    "help",
    "invite",
    "invites",
    "login",
    "logout",
    "mail",
    "new",
    "null",
    "onramp",
    "root",
    "settings",
    "signup",
    "staging",
    "static",
    "status",
    "support",
    "system",
    "tenant",
    "tenants",
    "test",
    "undefined",
    "user",
    "users",
    "www",
];

/// A valid slug: 3–40 of `a-z0-9-`, starts with a letter, does not end with `-`, not reserved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Slug(String);

impl Slug {
    pub(crate) fn parse(value: &str) -> Result<Self, Invalid> {
        let invalid = |message: &str| Invalid::new("slug", message);
        if !(3..=40).contains(&value.len()) {
            return Err(invalid("slug must be 3 to 40 characters"));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid("slug may contain only a-z, 0-9 and '-'"));
        }
        if !value.starts_with(|c: char| c.is_ascii_lowercase()) || value.ends_with('-') {
            return Err(invalid(
                "slug must start with a letter and not end with '-'",
            ));
        }
        if RESERVED.contains(&value) {
            return Err(invalid("this slug is reserved"));
        }
        Ok(Self(value.to_owned()))
    }

    /// A slug derived from a display name (`"Acme Corp!"` -> `acme-corp`), padded or prefixed so it
    /// is always valid; callers add a random suffix when it is taken.
    pub(crate) fn derive(name: &str) -> Self {
        let mut slug = String::new();
        for c in name.to_lowercase().chars() {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let mut slug: String = slug.trim_matches('-').chars().take(32).collect();
        slug = slug.trim_end_matches('-').to_owned();
        if slug.is_empty() {
            slug = "workspace".to_owned();
        }
        if !slug.starts_with(|c: char| c.is_ascii_lowercase()) {
            slug.insert_str(0, "ws-");
        }
        while slug.len() < 3 {
            slug.push('0');
        }
        Self::parse(&slug).unwrap_or_else(|_| Self(format!("ws-{slug}")))
    }

    /// This slug with a random 6-character suffix (`acme-3f9a0c`), for a name already taken.
    pub(crate) fn with_random_suffix(&self) -> Self {
        let random = uuid::Uuid::new_v4().simple().to_string();
        self.with_suffix(&random[..6])
    }

    /// This slug with `-suffix` appended (still at most 40 characters).
    pub(crate) fn with_suffix(&self, suffix: &str) -> Self {
        let suffix = format!("-{suffix}");
        let base: String = self.0.chars().take(40 - suffix.len()).collect();
        Self(format!("{}{suffix}", base.trim_end_matches('-')))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_slugs_parse() {
        assert!(Slug::parse("acme").is_ok());
        assert!(Slug::parse("acme-2").is_ok());
    }

    #[test]
    fn malformed_and_reserved_slugs_are_refused() {
        for bad in [
            "ab",
            "Acme",
            "1acme",
            "acme-",
            "ac_me",
            "admin",
            "api",
            "www",
            &"a".repeat(41),
        ] {
            let error = Slug::parse(bad).expect_err(bad);
            assert_eq!(error.field, "slug");
        }
    }

    #[test]
    fn derived_slugs_are_always_valid() {
        assert_eq!(Slug::derive("Acme Corp!").as_str(), "acme-corp");
        assert_eq!(Slug::derive("42").as_str(), "ws-42");
        assert_eq!(Slug::derive("!!").as_str(), "workspace");
        assert_eq!(Slug::derive("Admin").as_str(), "ws-admin");
        let long = Slug::derive(&"x".repeat(80));
        assert!(Slug::parse(long.with_random_suffix().as_str()).is_ok());
        assert_ne!(long.with_random_suffix(), long.with_random_suffix());
    }
}
