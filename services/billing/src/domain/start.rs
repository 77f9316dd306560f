//! What starting a plan without a card means, per plan kind and provider (pure).

use super::plan::{Plan, PlanKind};
use crate::config::ProviderKind;

/// Where an entitlement comes from (stored text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    StripeSubscription,
    TrialWithoutCard,
    FreePlan,
    Complimentary,
}

impl Source {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::StripeSubscription => "stripe_subscription",
            Self::TrialWithoutCard => "trial_without_card",
            Self::FreePlan => "free_plan",
            Self::Complimentary => "complimentary",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        [
            Self::StripeSubscription,
            Self::TrialWithoutCard,
            Self::FreePlan,
            Self::Complimentary,
        ]
        .into_iter()
        .find(|source| source.as_str() == text)
    }
}

/// The outcome of asking for a plan without a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// Active at once; `trial_days` set for a card-less trial.
    Active {
        source: Source,
        trial_days: Option<u32>,
    },
    /// Needs Stripe Checkout first.
    NeedsPayment,
    /// Not something a tenant can pick (complimentary plans with the stripe provider).
    NotSelectable,
}

/// The manual provider is a real mode for enterprise and development: every plan starts without a
/// card (a paid plan without a card-less trial becomes complimentary).
pub(crate) fn start_without_card(plan: &Plan, provider: ProviderKind) -> Start {
    match (plan.kind, provider) {
        (PlanKind::Free, _) => Start::Active {
            source: Source::FreePlan,
            trial_days: None,
        },
        (PlanKind::Complimentary, ProviderKind::Manual) => Start::Active {
            source: Source::Complimentary,
            trial_days: None,
        },
        (PlanKind::Complimentary, ProviderKind::Stripe) => Start::NotSelectable,
        (PlanKind::Paid, _) if plan.trial_days > 0 && !plan.trial_requires_card => Start::Active {
            source: Source::TrialWithoutCard,
            trial_days: Some(plan.trial_days),
        },
        (PlanKind::Paid, ProviderKind::Manual) => Start::Active {
            source: Source::Complimentary,
            trial_days: None,
        },
        (PlanKind::Paid, ProviderKind::Stripe) => Start::NeedsPayment,
    }
}
