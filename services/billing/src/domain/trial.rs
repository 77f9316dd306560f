//! The trial pill, computed in one pure function from the subscription and the clock, so no client
//! guesses (seed 003 had four components each deciding "expired" differently).

use chrono::{DateTime, Utc};

use super::{start::Source as PlanSource, subscription::SubscriptionStatus};

/// The pill's state (mirrors `onramp.billing.v1.TrialState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TrialState {
    Pristine,
    Warning,
    Urgent,
    Expired,
    Paid,
    Complimentary,
    PastDue,
    Canceled,
    /// No plan chosen yet: the client shows "choose a plan" instead of a pill.
    None,
}

/// The thresholds, in whole days left (configurable; defaults 7 and 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Thresholds {
    pub(crate) warning_days: u32,
    pub(crate) urgent_days: u32,
}

/// What the pill is computed from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrialInput {
    /// The subscription's status; `None` before any plan.
    pub(crate) status: Option<SubscriptionStatus>,
    pub(crate) source: Option<PlanSource>,
    pub(crate) trial_ends_at: Option<DateTime<Utc>>,
}

const DAY_SECONDS: i64 = 86_400;

/// Days left in a trial, counting a started day as a whole one (23 h left is "1 day left").
pub(crate) fn days_left(trial_ends_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let seconds = (trial_ends_at - now).num_seconds();
    if seconds <= 0 {
        0
    } else {
        (seconds + DAY_SECONDS - 1) / DAY_SECONDS
    }
}

/// The one place that decides the pill.
pub(crate) fn trial_state(
    input: TrialInput,
    now: DateTime<Utc>,
    thresholds: Thresholds,
) -> TrialState {
    use SubscriptionStatus as S;
    let Some(status) = input.status else {
        return TrialState::None;
    };
    match status {
        S::Incomplete | S::IncompleteExpired => TrialState::None,
        S::Trialing => match input.trial_ends_at {
            // A trial without an end date cannot run out: treat it as fresh.
            None => TrialState::Pristine,
            Some(end) => match days_left(end, now) {
                0 => TrialState::Expired,
                left if left <= i64::from(thresholds.urgent_days) => TrialState::Urgent,
                left if left <= i64::from(thresholds.warning_days) => TrialState::Warning,
                _ => TrialState::Pristine,
            },
        },
        S::Active => match input.source {
            Some(PlanSource::FreePlan | PlanSource::Complimentary) => TrialState::Complimentary,
            _ => TrialState::Paid,
        },
        S::PastDue | S::Unpaid => TrialState::PastDue,
        // Stripe pauses a subscription whose trial ended without a payment method.
        S::Paused => TrialState::Expired,
        S::Canceled => match input.source {
            Some(PlanSource::TrialWithoutCard) => TrialState::Expired,
            _ => TrialState::Canceled,
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    const DEFAULTS: Thresholds = Thresholds {
        warning_days: 7,
        urgent_days: 2,
    };

    fn trialing(left: Duration, now: DateTime<Utc>) -> TrialInput {
        TrialInput {
            status: Some(SubscriptionStatus::Trialing),
            source: Some(PlanSource::StripeSubscription),
            trial_ends_at: Some(now + left),
        }
    }

    #[test]
    fn every_state_and_every_boundary() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let day = Duration::days(1);
        let second = Duration::seconds(1);
        let with = |status, source| TrialInput {
            status: Some(status),
            source: Some(source),
            trial_ends_at: None,
        };
        use PlanSource::*;
        use SubscriptionStatus as S;
        let cases: Vec<(&str, TrialInput, TrialState)> = vec![
            (
                "30 days left",
                trialing(day * 30, now),
                TrialState::Pristine,
            ),
            (
                "7 days + 1 s",
                trialing(day * 7 + second, now),
                TrialState::Pristine,
            ),
            (
                "exactly 7 days",
                trialing(day * 7, now),
                TrialState::Warning,
            ),
            (
                "2 days + 1 s",
                trialing(day * 2 + second, now),
                TrialState::Warning,
            ),
            ("exactly 2 days", trialing(day * 2, now), TrialState::Urgent),
            ("last second", trialing(second, now), TrialState::Urgent),
            (
                "ends now",
                trialing(Duration::zero(), now),
                TrialState::Expired,
            ),
            ("ended yesterday", trialing(-day, now), TrialState::Expired),
            (
                "paused after trial",
                with(S::Paused, StripeSubscription),
                TrialState::Expired,
            ),
            (
                "card-less trial ended",
                with(S::Canceled, TrialWithoutCard),
                TrialState::Expired,
            ),
            (
                "paid",
                with(S::Active, StripeSubscription),
                TrialState::Paid,
            ),
            (
                "complimentary",
                with(S::Active, Complimentary),
                TrialState::Complimentary,
            ),
            (
                "free plan",
                with(S::Active, FreePlan),
                TrialState::Complimentary,
            ),
            (
                "past due",
                with(S::PastDue, StripeSubscription),
                TrialState::PastDue,
            ),
            (
                "unpaid",
                with(S::Unpaid, StripeSubscription),
                TrialState::PastDue,
            ),
            (
                "canceled",
                with(S::Canceled, StripeSubscription),
                TrialState::Canceled,
            ),
            (
                "checkout in flight",
                with(S::Incomplete, StripeSubscription),
                TrialState::None,
            ),
        ];
        for (name, input, expected) in cases {
            assert_eq!(trial_state(input, now, DEFAULTS), expected, "{name}");
        }
        let none = TrialInput {
            status: None,
            source: None,
            trial_ends_at: None,
        };
        assert_eq!(trial_state(none, now, DEFAULTS), TrialState::None);
    }

    #[test]
    fn thresholds_are_configurable() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let tight = Thresholds {
            warning_days: 3,
            urgent_days: 1,
        };
        let four = trialing(Duration::days(4), now);
        assert_eq!(trial_state(four, now, tight), TrialState::Pristine);
        assert_eq!(trial_state(four, now, DEFAULTS), TrialState::Warning);
        let two = trialing(Duration::days(2), now);
        assert_eq!(trial_state(two, now, tight), TrialState::Warning);
    }
}
