//! Stripe Connect rules: the country of a new account, the onboarding status derived from Stripe's
//! account object, and the onboarding token lifecycle.

use crate::error::OnboardingError;

/// ISO 3166-1 alpha-2 country of a connected account ("US"), uppercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country(String);

impl Country {
    /// Parses an uppercase two-letter code; anything else is INVALID_ARGUMENT `country`.
    pub fn parse(raw: &str) -> Result<Self, OnboardingError> {
        let valid = raw.len() == 2 && raw.chars().all(|c| c.is_ascii_uppercase());
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(OnboardingError::invalid(
                "country",
                "must be an uppercase ISO 3166-1 alpha-2 code such as US",
            ))
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The parts of Stripe's account object onboarding mirrors.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountSnapshot {
    /// `acct_...`.
    pub stripe_account_id: String,
    /// Two-letter country, as Stripe reports it.
    pub country: String,
    /// `details_submitted`.
    pub details_submitted: bool,
    /// `charges_enabled`.
    pub charges_enabled: bool,
    /// `payouts_enabled`.
    pub payouts_enabled: bool,
    /// `requirements.currently_due`.
    pub currently_due: Vec<String>,
    /// `requirements.past_due`.
    pub past_due: Vec<String>,
    /// `requirements.pending_verification`.
    pub pending_verification: Vec<String>,
    /// `requirements.disabled_reason`, empty when none.
    pub disabled_reason: String,
}

/// A connected account's onboarding status, derived from its snapshot only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    /// Details not submitted yet.
    Onboarding,
    /// Submitted; Stripe is verifying or something is currently due.
    PendingVerification,
    /// Charges or payouts disabled by Stripe, or requirements past due.
    Restricted,
    /// Requirements met.
    Complete,
}

impl AccountStatus {
    /// The one place that decides whether an account's requirements are met.
    pub fn of(account: &AccountSnapshot) -> Self {
        if !account.disabled_reason.is_empty() || !account.past_due.is_empty() {
            Self::Restricted
        } else if account.details_submitted
            && account.charges_enabled
            && account.payouts_enabled
            && account.currently_due.is_empty()
        {
            Self::Complete
        } else if account.details_submitted {
            Self::PendingVerification
        } else {
            Self::Onboarding
        }
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Onboarding => "onboarding",
            Self::PendingVerification => "pending_verification",
            Self::Restricted => "restricted",
            Self::Complete => "complete",
        }
    }

    /// Parses the stored spelling.
    pub fn from_db(raw: &str) -> Option<Self> {
        Some(match raw {
            "onboarding" => Self::Onboarding,
            "pending_verification" => Self::PendingVerification,
            "restricted" => Self::Restricted,
            "complete" => Self::Complete,
            _ => return None,
        })
    }
}

/// An onboarding token's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    /// Issued; no account link yet (or the last attempt failed at Stripe).
    Pending,
    /// A link was created; the user is (or was) on Stripe's pages.
    InProgress,
    /// The account's requirements are met.
    Complete,
    /// Past its expiry or superseded.
    Expired,
}

impl TokenStatus {
    /// Parses the stored spelling.
    pub fn from_db(raw: &str) -> Option<Self> {
        Some(match raw {
            "pending" => Self::Pending,
            "in_progress" => Self::InProgress,
            "complete" => Self::Complete,
            "expired" => Self::Expired,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn met() -> AccountSnapshot {
        AccountSnapshot {
            details_submitted: true,
            charges_enabled: true,
            payouts_enabled: true,
            ..AccountSnapshot::default()
        }
    }

    #[test]
    fn complete_only_when_every_requirement_is_met() {
        assert_eq!(AccountStatus::of(&met()), AccountStatus::Complete);
        let due = AccountSnapshot {
            currently_due: vec!["external_account".into()],
            ..met()
        };
        assert_eq!(AccountStatus::of(&due), AccountStatus::PendingVerification);
        let past = AccountSnapshot {
            past_due: vec!["tos_acceptance.date".into()],
            ..met()
        };
        assert_eq!(AccountStatus::of(&past), AccountStatus::Restricted);
        let no_payouts = AccountSnapshot {
            payouts_enabled: false,
            ..met()
        };
        assert_eq!(
            AccountStatus::of(&no_payouts),
            AccountStatus::PendingVerification
        );
        assert_eq!(
            AccountStatus::of(&AccountSnapshot::default()),
            AccountStatus::Onboarding
        );
    }

    #[test]
    fn country_must_be_two_uppercase_letters() {
        assert!(Country::parse("US").is_ok());
        for bad in ["", "us", "USA", "U1"] {
            assert!(Country::parse(bad).is_err(), "{bad}");
        }
    }
}
