//! Proto enums as the API's lowercase words, both ways, from prost's own names: `ROLE_OWNER` is
//! `owner`, `TENANT_STATE_PENDING_PAYMENT` is `pending_payment` (the prefix is the `UNSPECIFIED`
//! value's). Out, an unknown number is `unspecified`; in, only a lowercase word of a specified value
//! parses, so `OWNER` or `unspecified` is refused like any other unknown word.

use onramp_kit::ApiError;
use onramp_proto::{billing::v1 as billing, onboarding::v1 as onboarding, tenancy::v1 as tenancy};

use crate::problem::Problem;

/// A prost enum (prost generates these two as inherent methods; the trait makes them generic).
pub(crate) trait Word: Copy + Default + Into<i32> + TryFrom<i32> {
    fn name(self) -> &'static str;
    fn from_name(name: &str) -> Option<Self>;
}

macro_rules! words {
    ($($enum:ty),* $(,)?) => {$(
        impl Word for $enum {
            fn name(self) -> &'static str {
                self.as_str_name()
            }
            fn from_name(name: &str) -> Option<Self> {
                Self::from_str_name(name)
            }
        }
    )*};
}

words!(
    tenancy::Role,
    tenancy::TenantState,
    tenancy::TenantGate,
    tenancy::InviteState,
    tenancy::InviteOutcome,
    billing::PlanKind,
    billing::BillingInterval,
    billing::BillingProvider,
    billing::SubscriptionStatus,
    billing::TrialState,
    onboarding::StepState,
    onboarding::StepSource,
    onboarding::StepAction,
    onboarding::CompanySize,
    onboarding::ConnectAccountStatus,
    onboarding::OnboardingTokenStatus,
    onramp_proto::identity::v1::OauthProviderKind,
);

/// `ROLE_` for `Role`: the unspecified value's name without `UNSPECIFIED`.
fn prefix<E: Word>() -> &'static str {
    let unspecified = E::default().name();
    unspecified
        .strip_suffix("UNSPECIFIED")
        .unwrap_or(unspecified)
}

pub(crate) fn word<E: Word>(value: E) -> String {
    let name = value.name();
    name.strip_prefix(prefix::<E>())
        .unwrap_or(name)
        .to_ascii_lowercase()
}

/// The word for an enum field's number (`unspecified` when the number is unknown).
pub(crate) fn word_of<E: Word>(number: i32) -> String {
    word(E::try_from(number).unwrap_or_default())
}

/// The value `word` names, else a 400 naming `field` with `message`.
pub(crate) fn parse_field<E: Word>(
    word: &str,
    field: impl Into<String>,
    message: &str,
) -> Result<E, Problem> {
    parse(word).ok_or_else(|| Problem(ApiError::invalid_field(field, message)))
}

/// As [`parse_field`] for an optional field: absent or empty is the unspecified value.
pub(crate) fn parse_optional<E: Word>(
    word: Option<&str>,
    field: &str,
    message: &str,
) -> Result<E, Problem> {
    match word {
        None | Some("") => Ok(E::default()),
        Some(word) => parse_field(word, field, message),
    }
}

/// The value a lowercase word names; `None` for anything else, `unspecified` included.
pub(crate) fn parse<E: Word>(word: &str) -> Option<E> {
    if word.is_empty() || word.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let name = format!("{}{}", prefix::<E>(), word.to_ascii_uppercase());
    E::from_name(&name).filter(|value| (*value).into() != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_only_lowercase_specified_words_parse() {
        assert_eq!(
            word(tenancy::TenantState::PendingPayment),
            "pending_payment"
        );
        assert_eq!(word_of::<tenancy::Role>(99), "unspecified");
        assert_eq!(word(tenancy::TenantGate::None), "none");
        assert_eq!(parse("admin"), Some(tenancy::Role::Admin));
        assert_eq!(parse::<tenancy::Role>("ADMIN"), None);
        assert_eq!(parse::<tenancy::Role>("unspecified"), None);
        assert_eq!(parse::<tenancy::Role>(""), None);
        assert_eq!(parse("past_due"), Some(tenancy::TenantState::PastDue));
        assert_eq!(
            parse("in_progress"),
            Some(onboarding::OnboardingTokenStatus::InProgress)
        );
    }
}
