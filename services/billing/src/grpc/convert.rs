//! Small proto <-> domain conversions shared by the RPC modules.

use onramp_proto::billing::v1::{
    Entitlement, EntitlementSource, EntitlementState as ProtoState, StripeEvent as ProtoEvent,
    StripeEventOutcome,
};
use uuid::Uuid;

pub(crate) use onramp_kit::grpc::convert::timestamp;

use crate::{
    domain::subscription::EntitlementState,
    error::BillingError,
    store::{entitlements::EntitlementRow, inbox::EventRow},
    webhook::Outcome,
};

pub(crate) fn tenant_id(text: &str, field: &str) -> Result<Uuid, BillingError> {
    Uuid::parse_str(text).map_err(|_| BillingError::invalid(field, "must be a UUID"))
}

pub(crate) fn outcome(outcome: Outcome) -> StripeEventOutcome {
    match outcome {
        Outcome::Applied => StripeEventOutcome::Applied,
        Outcome::Duplicate => StripeEventOutcome::Duplicate,
        Outcome::Ignored => StripeEventOutcome::Ignored,
        Outcome::Stale => StripeEventOutcome::Stale,
    }
}

pub(crate) fn entitlement(tenant: Uuid, row: Option<EntitlementRow>) -> Entitlement {
    let Some(row) = row else {
        return Entitlement {
            tenant_id: tenant.to_string(),
            state: ProtoState::None as i32,
            ..Entitlement::default()
        };
    };
    let state = match EntitlementState::parse(&row.state) {
        Some(EntitlementState::PendingPayment) => ProtoState::PendingPayment,
        Some(EntitlementState::Active) => ProtoState::Active,
        Some(EntitlementState::PastDue) => ProtoState::PastDue,
        Some(EntitlementState::Suspended) => ProtoState::Suspended,
        Some(EntitlementState::Canceled) => ProtoState::Canceled,
        Some(EntitlementState::None) | None => ProtoState::None,
    };
    let source = match row.source.as_deref() {
        Some("stripe_subscription") => EntitlementSource::StripeSubscription,
        Some("trial_without_card") => EntitlementSource::TrialWithoutCard,
        Some("free_plan") => EntitlementSource::FreePlan,
        Some("complimentary") => EntitlementSource::Complimentary,
        _ => EntitlementSource::Unspecified,
    };
    Entitlement {
        tenant_id: row.tenant_id.to_string(),
        state: state as i32,
        source: source as i32,
        plan_id: row.plan_id.map(|id| id.to_string()).unwrap_or_default(),
        plan_code: String::new(),
        trial_ends_at: row.trial_ends_at.map(timestamp),
        ends_at: row.ends_at.map(timestamp),
        version: row.version,
        updated_at: Some(timestamp(row.updated_at)),
    }
}

pub(crate) fn stored_event(row: EventRow) -> ProtoEvent {
    let outcome = match row.outcome.as_str() {
        "failed" => StripeEventOutcome::Failed,
        other => Outcome::parse(other).map_or(StripeEventOutcome::Unspecified, outcome),
    };
    ProtoEvent {
        event_id: row.event_id,
        event_type: row.event_type,
        created: row.created.map(timestamp),
        account_id: row.account_id.unwrap_or_default(),
        outcome: outcome as i32,
        deliveries: u32::try_from(row.deliveries).unwrap_or(u32::MAX),
        first_received_at: Some(timestamp(row.first_received_at)),
        applied_at: row.applied_at.map(timestamp),
        last_error: row.last_error.unwrap_or_default(),
    }
}
