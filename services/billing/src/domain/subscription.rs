//! Subscription statuses (Stripe's), the entitlement each one means, and the lifecycle transition
//! tenancy is told about.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Stripe's `subscription.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SubscriptionStatus {
    Incomplete,
    IncompleteExpired,
    Trialing,
    Active,
    PastDue,
    Unpaid,
    Paused,
    Canceled,
}

impl SubscriptionStatus {
    /// The stored text (Stripe's own spelling).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Incomplete => "incomplete",
            Self::IncompleteExpired => "incomplete_expired",
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Unpaid => "unpaid",
            Self::Paused => "paused",
            Self::Canceled => "canceled",
        }
    }

    /// Parses the stored text.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
    }

    /// How strongly this status entitles a tenant, for choosing among several subscriptions of one
    /// tenant: live beats lapsing beats unpaid beats never-paid beats over.
    pub(crate) fn precedence(self) -> u8 {
        match self {
            Self::Trialing | Self::Active => 5,
            Self::PastDue => 4,
            Self::Unpaid | Self::Paused => 3,
            Self::Incomplete => 2,
            Self::IncompleteExpired => 1,
            Self::Canceled => 0,
        }
    }

    /// What the tenant is entitled to while its subscription is in this status.
    pub(crate) fn entitlement(self) -> EntitlementState {
        match self {
            Self::Incomplete => EntitlementState::PendingPayment,
            Self::Trialing | Self::Active => EntitlementState::Active,
            Self::PastDue => EntitlementState::PastDue,
            Self::Unpaid | Self::Paused | Self::IncompleteExpired => EntitlementState::Suspended,
            Self::Canceled => EntitlementState::Canceled,
        }
    }
}

/// Whether a tenant may use the product (mirrors `onramp.billing.v1.EntitlementState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntitlementState {
    None,
    PendingPayment,
    Active,
    PastDue,
    Suspended,
    Canceled,
}

impl EntitlementState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::PendingPayment => "pending_payment",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Suspended => "suspended",
            Self::Canceled => "canceled",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "none" => Self::None,
            "pending_payment" => Self::PendingPayment,
            "active" => Self::Active,
            "past_due" => Self::PastDue,
            "suspended" => Self::Suspended,
            "canceled" => Self::Canceled,
            _ => return None,
        })
    }

    /// The lifecycle transition tenancy applies when the entitlement becomes this state; `None` for
    /// states tenancy has no transition for (a pending tenant stays pending).
    pub(crate) fn transition(self) -> Option<Transition> {
        match self {
            Self::Active => Some(Transition::Activate),
            Self::PastDue => Some(Transition::MarkPastDue),
            Self::Suspended => Some(Transition::Suspend),
            Self::Canceled => Some(Transition::Cancel),
            Self::None | Self::PendingPayment => None,
        }
    }
}

/// The subscription that decides a tenant's entitlement when it has several (an upgrade made a new
/// one while the old one lapses; a second Checkout): the highest [`SubscriptionStatus::precedence`]
/// wins, then the most recently changed. An unknown status counts as over.
pub(crate) fn governing<T>(
    subscriptions: impl IntoIterator<Item = T>,
    facts: impl Fn(&T) -> (Option<SubscriptionStatus>, DateTime<Utc>),
) -> Option<T> {
    subscriptions.into_iter().max_by_key(|subscription| {
        let (status, changed) = facts(subscription);
        (status.map_or(0, SubscriptionStatus::precedence), changed)
    })
}

/// Tenancy's `LifecycleTransition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Transition {
    Activate,
    MarkPastDue,
    Suspend,
    Cancel,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_usable_then_newest_subscription_governs() {
        use SubscriptionStatus::*;
        let at = |s: i64| DateTime::from_timestamp(1_790_000_000 + s, 0).expect("time");
        let pick = |rows: &[(Option<SubscriptionStatus>, i64, &'static str)]| {
            governing(rows.iter(), |row| (row.0, at(row.1))).map(|row| row.2)
        };
        // The old subscription is canceled after the new one went live: the new one governs.
        assert_eq!(
            pick(&[(Some(Active), 1, "new"), (Some(Canceled), 2, "old")]),
            Some("new")
        );
        assert_eq!(
            pick(&[(Some(PastDue), 1, "a"), (Some(Incomplete), 2, "b")]),
            Some("a")
        );
        assert_eq!(
            pick(&[(Some(Active), 1, "a"), (Some(Trialing), 2, "b")]),
            Some("b")
        );
        assert_eq!(
            pick(&[(None, 5, "unknown"), (Some(Canceled), 1, "c")]),
            Some("unknown")
        );
        assert_eq!(pick(&[]), None);
    }

    #[test]
    fn every_status_maps_to_the_documented_transition() {
        use SubscriptionStatus::*;
        let cases = [
            (Incomplete, None),
            (IncompleteExpired, Some(Transition::Suspend)),
            (Trialing, Some(Transition::Activate)),
            (Active, Some(Transition::Activate)),
            (PastDue, Some(Transition::MarkPastDue)),
            (Unpaid, Some(Transition::Suspend)),
            (Paused, Some(Transition::Suspend)),
            (Canceled, Some(Transition::Cancel)),
        ];
        for (status, transition) in cases {
            assert_eq!(status.entitlement().transition(), transition, "{status:?}");
            assert_eq!(SubscriptionStatus::parse(status.as_str()), Some(status));
        }
    }
}
