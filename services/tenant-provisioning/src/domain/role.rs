//! Roles in a tenant: owner > admin > member.

/// A member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    // Declared strongest first so `Ord` reads "less is more powerful"; use `at_least` instead.
    Owner,
    Admin,
    Member,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub(crate) fn from_db(value: &str) -> Option<Role> {
        match value {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// Whether this role is `minimum` or stronger.
    pub(crate) fn at_least(self, minimum: Role) -> bool {
        self <= minimum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_outrank_admins_outrank_members() {
        assert!(Role::Owner.at_least(Role::Admin));
        assert!(Role::Admin.at_least(Role::Admin));
        assert!(!Role::Member.at_least(Role::Admin));
        assert!(!Role::Admin.at_least(Role::Owner));
        for role in [Role::Owner, Role::Admin, Role::Member] {
            assert_eq!(Role::from_db(role.as_str()), Some(role));
        }
    }
}
