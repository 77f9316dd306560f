//! The tenant lifecycle: states, billing's transitions, and the one table of what is allowed.

use std::time::Duration;

/// A tenant's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TenantState {
    PendingPayment,
    Active,
    PastDue,
    Suspended,
    Canceled,
}

/// A change billing asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    Activate,
    MarkPastDue,
    Suspend,
    Cancel,
}

/// What blocks a tenant, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    None,
    PaymentPending,
    Suspended,
    Canceled,
}

impl Transition {
    /// The state the transition leads to.
    pub(crate) fn target(self) -> TenantState {
        match self {
            Transition::Activate => TenantState::Active,
            Transition::MarkPastDue => TenantState::PastDue,
            Transition::Suspend => TenantState::Suspended,
            Transition::Cancel => TenantState::Canceled,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Transition::Activate => "activate",
            Transition::MarkPastDue => "mark_past_due",
            Transition::Suspend => "suspend",
            Transition::Cancel => "cancel",
        }
    }
}

/// The outcome of asking for a transition from a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Move to this state.
    Move(TenantState),
    /// Already there; nothing changes.
    Stay,
    /// Not allowed from the current state.
    Refused,
}

impl TenantState {
    /// The lifecycle table (the only place it lives): which states each state may move to.
    fn allowed_targets(self) -> &'static [TenantState] {
        use TenantState::*;
        match self {
            PendingPayment => &[Active, Canceled],
            Active => &[PastDue, Suspended, Canceled],
            PastDue => &[Active, Suspended, Canceled],
            Suspended => &[Active, Canceled],
            Canceled => &[Active],
        }
    }

    /// What `transition` does from this state.
    pub(crate) fn apply(self, transition: Transition) -> Step {
        let target = transition.target();
        if target == self {
            Step::Stay
        } else if self.allowed_targets().contains(&target) {
            Step::Move(target)
        } else {
            Step::Refused
        }
    }

    /// What blocks the tenant in this state.
    pub(crate) fn gate(self) -> Gate {
        match self {
            TenantState::Active | TenantState::PastDue => Gate::None,
            TenantState::PendingPayment => Gate::PaymentPending,
            TenantState::Suspended => Gate::Suspended,
            TenantState::Canceled => Gate::Canceled,
        }
    }

    /// Every state, for gauges that must report the empty ones as 0.
    pub(crate) const ALL: [TenantState; 5] = [
        TenantState::PendingPayment,
        TenantState::Active,
        TenantState::PastDue,
        TenantState::Suspended,
        TenantState::Canceled,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TenantState::PendingPayment => "pending_payment",
            TenantState::Active => "active",
            TenantState::PastDue => "past_due",
            TenantState::Suspended => "suspended",
            TenantState::Canceled => "canceled",
        }
    }

    pub(crate) fn from_db(value: &str) -> Option<TenantState> {
        Some(match value {
            "pending_payment" => TenantState::PendingPayment,
            "active" => TenantState::Active,
            "past_due" => TenantState::PastDue,
            "suspended" => TenantState::Suspended,
            "canceled" => TenantState::Canceled,
            _ => return None,
        })
    }
}

/// Whether a tenant is usable, what blocks it, and when to ask again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Status {
    pub(crate) ready: bool,
    pub(crate) gate: Gate,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) message: &'static str,
}

impl Status {
    /// The status of a tenant in `state`; `retry_after` is the hint while payment is pending.
    pub(crate) fn of(state: TenantState, retry_after: Duration) -> Self {
        let gate = state.gate();
        let (retry_after, message) = match gate {
            Gate::None if state == TenantState::PastDue => {
                (None, "A payment failed; please update your payment method")
            }
            Gate::None => (None, "Ready"),
            Gate::PaymentPending => (
                Some(retry_after),
                "Waiting for your payment to be confirmed",
            ),
            Gate::Suspended => (None, "This workspace is suspended until its bill is paid"),
            Gate::Canceled => (None, "This workspace's subscription has ended"),
        };
        Self {
            ready: gate == Gate::None,
            gate,
            retry_after,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Step, TenantState::*, Transition::*};

    #[test]
    fn the_transition_table_matches_the_contract() {
        assert_eq!(PendingPayment.apply(Activate), Step::Move(Active));
        assert_eq!(PendingPayment.apply(Cancel), Step::Move(Canceled));
        assert_eq!(PendingPayment.apply(MarkPastDue), Step::Refused);
        assert_eq!(PendingPayment.apply(Suspend), Step::Refused);
        assert_eq!(Active.apply(Activate), Step::Stay);
        assert_eq!(Active.apply(MarkPastDue), Step::Move(PastDue));
        assert_eq!(PastDue.apply(Activate), Step::Move(Active));
        assert_eq!(Suspended.apply(MarkPastDue), Step::Refused);
        assert_eq!(Canceled.apply(Activate), Step::Move(Active));
        assert_eq!(Canceled.apply(Suspend), Step::Refused);
        assert_eq!(Canceled.apply(MarkPastDue), Step::Refused);
    }

    #[test]
    fn only_active_and_past_due_are_usable() {
        use super::{Gate, Status};
        let hint = std::time::Duration::from_secs(2);
        assert!(Status::of(Active, hint).ready);
        assert!(Status::of(PastDue, hint).ready);
        let pending = Status::of(PendingPayment, hint);
        assert_eq!(
            (pending.ready, pending.gate, pending.retry_after),
            (false, Gate::PaymentPending, Some(hint))
        );
        assert_eq!(Status::of(Suspended, hint).gate, Gate::Suspended);
        assert_eq!(Status::of(Canceled, hint).retry_after, None);
    }
}
