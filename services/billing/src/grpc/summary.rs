//! The subscription summary: the tenant's status from its entitlement and mirrored subscription, with
//! the trial pill from the one pure function.

use chrono::{DateTime, Utc};
use onramp_proto::billing::v1::{self as pb, SubscriptionStatus as Status, TrialState as Pill};

use super::{plans::plan_message, timestamp};
use crate::{
    config::ProviderKind,
    domain::{
        start::Source,
        subscription::{EntitlementState, SubscriptionStatus},
        trial::{self, Thresholds, TrialInput, TrialState},
    },
    service::summary::Facts,
};

/// The status billing reports, Stripe's own for Stripe subscriptions.
fn status(facts: &Facts, now: DateTime<Utc>) -> Option<SubscriptionStatus> {
    use SubscriptionStatus as S;
    let entitlement = facts.entitlement.as_ref()?;
    let state = EntitlementState::parse(&entitlement.state)?;
    let source = entitlement.source.as_deref().and_then(Source::parse);
    if source == Some(Source::StripeSubscription)
        && let Some(subscription) = &facts.subscription
    {
        return SubscriptionStatus::parse(&subscription.status);
    }
    let ended = entitlement.ends_at.is_some_and(|end| end <= now);
    Some(match (state, source) {
        (EntitlementState::None, _) => return None,
        (EntitlementState::PendingPayment, _) => S::Incomplete,
        (EntitlementState::Active, Some(Source::TrialWithoutCard)) => S::Trialing,
        (EntitlementState::Active, Some(Source::FreePlan | Source::Complimentary)) if ended => {
            S::Canceled
        }
        (EntitlementState::Active, _) => S::Active,
        (EntitlementState::PastDue, _) => S::PastDue,
        (EntitlementState::Suspended, _) => S::Unpaid,
        (EntitlementState::Canceled, _) => S::Canceled,
    })
}

fn status_message(status: Option<SubscriptionStatus>) -> Status {
    use SubscriptionStatus as S;
    match status {
        None => Status::None,
        Some(S::Incomplete) => Status::Incomplete,
        Some(S::IncompleteExpired) => Status::IncompleteExpired,
        Some(S::Trialing) => Status::Trialing,
        Some(S::Active) => Status::Active,
        Some(S::PastDue) => Status::PastDue,
        Some(S::Unpaid) => Status::Unpaid,
        Some(S::Paused) => Status::Paused,
        Some(S::Canceled) => Status::Canceled,
    }
}

fn pill(state: TrialState) -> Pill {
    match state {
        TrialState::Pristine => Pill::Pristine,
        TrialState::Warning => Pill::Warning,
        TrialState::Urgent => Pill::Urgent,
        TrialState::Expired => Pill::Expired,
        TrialState::Paid => Pill::Paid,
        TrialState::Complimentary => Pill::Complimentary,
        TrialState::PastDue => Pill::PastDue,
        TrialState::Canceled => Pill::Canceled,
        TrialState::None => Pill::None,
    }
}

/// Builds the summary at `now`.
pub(crate) fn summary(
    facts: &Facts,
    now: DateTime<Utc>,
    thresholds: Thresholds,
) -> pb::SubscriptionSummary {
    let status = status(facts, now);
    let entitlement = facts.entitlement.as_ref();
    let subscription = facts.subscription.as_ref();
    let trial_ends_at = entitlement
        .and_then(|e| e.trial_ends_at)
        .or_else(|| subscription.and_then(|s| s.trial_end));
    let input = TrialInput {
        status,
        source: entitlement
            .and_then(|e| e.source.as_deref())
            .and_then(Source::parse),
        trial_ends_at,
    };
    let state = trial::trial_state(input, now, thresholds);
    let days_left = match (state, trial_ends_at) {
        (TrialState::Pristine | TrialState::Warning | TrialState::Urgent, Some(end)) => {
            u32::try_from(trial::days_left(end, now)).unwrap_or(u32::MAX)
        }
        _ => 0,
    };
    let provider = match facts.provider {
        ProviderKind::Stripe => pb::BillingProvider::Stripe,
        ProviderKind::Manual => pb::BillingProvider::Manual,
    };
    pb::SubscriptionSummary {
        tenant_id: facts.tenant_id.to_string(),
        provider: provider as i32,
        plan: status
            .and(facts.plan.as_ref())
            .map(|plan| plan_message(plan, false)),
        status: status_message(status) as i32,
        trial_state: pill(state) as i32,
        trial_days_left: days_left,
        trial_ends_at: trial_ends_at.map(timestamp),
        current_period_end: subscription
            .and_then(|s| s.current_period_end)
            .or_else(|| entitlement.and_then(|e| e.ends_at))
            .map(timestamp),
        cancel_at_period_end: subscription.is_some_and(|s| s.cancel_at_period_end),
        seats: subscription.map_or(0, |s| u32::try_from(s.seats).unwrap_or(0)),
        has_billing_account: facts.has_customer,
        stripe_subscription_id: subscription
            .map(|s| s.stripe_subscription_id.clone())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use uuid::Uuid;

    use super::*;
    use crate::store::entitlements::EntitlementRow;

    fn row(
        state: &str,
        source: &str,
        trial_ends_at: Option<DateTime<Utc>>,
        ends_at: Option<DateTime<Utc>>,
    ) -> EntitlementRow {
        EntitlementRow {
            tenant_id: Uuid::nil(),
            state: state.to_owned(),
            source: Some(source.to_owned()),
            plan_id: None,
            trial_ends_at,
            ends_at,
            version: 1,
            updated_at: Utc::now(),
        }
    }

    fn pill_of(entitlement: Option<EntitlementRow>, now: DateTime<Utc>) -> (i32, i32, u32) {
        let facts = Facts {
            tenant_id: Uuid::nil(),
            provider: ProviderKind::Manual,
            entitlement,
            subscription: None,
            plan: None,
            has_customer: false,
        };
        let thresholds = Thresholds {
            warning_days: 7,
            urgent_days: 2,
        };
        let summary = summary(&facts, now, thresholds);
        (summary.status, summary.trial_state, summary.trial_days_left)
    }

    #[test]
    fn entitlements_without_stripe_get_a_status_and_a_pill() {
        let now = Utc::now();
        assert_eq!(
            pill_of(None, now),
            (Status::None as i32, Pill::None as i32, 0)
        );
        let trial = row(
            "active",
            "trial_without_card",
            Some(now + Duration::hours(30)),
            None,
        );
        assert_eq!(
            pill_of(Some(trial), now),
            (Status::Trialing as i32, Pill::Urgent as i32, 2)
        );
        let over = row(
            "active",
            "trial_without_card",
            Some(now - Duration::hours(1)),
            None,
        );
        assert_eq!(
            pill_of(Some(over), now),
            (Status::Trialing as i32, Pill::Expired as i32, 0)
        );
        let grant = row(
            "active",
            "complimentary",
            None,
            Some(now + Duration::days(30)),
        );
        assert_eq!(
            pill_of(Some(grant), now),
            (Status::Active as i32, Pill::Complimentary as i32, 0)
        );
        let ended = row(
            "active",
            "complimentary",
            None,
            Some(now - Duration::days(1)),
        );
        assert_eq!(
            pill_of(Some(ended), now),
            (Status::Canceled as i32, Pill::Canceled as i32, 0)
        );
        let pending = row("pending_payment", "stripe_subscription", None, None);
        assert_eq!(
            pill_of(Some(pending), now),
            (Status::Incomplete as i32, Pill::None as i32, 0)
        );
    }
}
