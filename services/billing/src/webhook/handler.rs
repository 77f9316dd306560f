//! What each Stripe event does to billing's state, inside the claiming transaction.

use uuid::Uuid;

use super::event::{
    AccountObject, CheckoutSessionObject, InvoiceObject, StripeEvent, SubscriptionObject,
};
use crate::{
    domain::{
        start::Source,
        subscription::{EntitlementState, SubscriptionStatus, governing},
    },
    error::BillingError,
    store::{
        self, Tx,
        entitlements::Change,
        inbox::Guard,
        outbox::{self, AccountUpdate, Topic},
        subscriptions::{PlanSource, SubscriptionRow},
    },
    stripe::StripeApi,
};

/// What happened to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Applied,
    Duplicate,
    Ignored,
    Stale,
}

impl Outcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
            Self::Stale => "stale",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        [Self::Applied, Self::Duplicate, Self::Ignored, Self::Stale]
            .into_iter()
            .find(|outcome| outcome.as_str() == text)
    }
}

fn bad_object(message: String) -> BillingError {
    BillingError::invalid("payload", message)
}

/// What billing does with an event type. The Connect endpoint carries connected accounts' events,
/// signed with a secret of its own: only account events are acted on there. A Checkout or
/// subscription event arriving on it belongs to a connected account's own customers (or to someone
/// holding the Connect secret), never to one of our tenants, so it is ignored whatever its metadata
/// claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Checkout,
    Subscription,
    Invoice,
    Account,
}

fn action(event_type: &str, connect: bool) -> Option<Action> {
    if connect {
        return (event_type == "account.updated").then_some(Action::Account);
    }
    match event_type {
        "checkout.session.completed" => Some(Action::Checkout),
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted"
        | "customer.subscription.trial_will_end" => Some(Action::Subscription),
        "invoice.paid" | "invoice.payment_failed" => Some(Action::Invoice),
        "account.updated" => Some(Action::Account),
        _ => None,
    }
}

/// The version guard the claim may apply for this type (the rule [`subscription_changed`] and
/// [`invoice`] apply to a row they read themselves); `None`: the type is never stale.
pub(super) fn guard(event_type: &str) -> Option<Guard> {
    match action(event_type, false) {
        Some(Action::Subscription) => Some(Guard::Older),
        Some(Action::Invoice) => Some(Guard::NotNewer),
        Some(Action::Checkout | Action::Account) | None => None,
    }
}

/// Whether [`handle`] does anything with this type; when not, the event is only claimed and logged.
pub(super) fn acts_on(event_type: &str, connect: bool) -> bool {
    action(event_type, connect).is_some()
}

/// The subscription whose lock the claiming statement took, and its row as that statement read it
/// under the lock ([`store::inbox::Claim::subscription`]: `None` means "read it again").
#[derive(Debug)]
pub(crate) struct Locked<'a> {
    pub(crate) id: &'a str,
    pub(crate) row: Option<SubscriptionRow>,
}

/// Applies the event inside the claiming transaction. `held`: the subscription whose lock the
/// transaction already holds (taken with the claim), so it is not asked for (nor, when read there,
/// read) again.
pub(super) async fn handle(
    tx: &mut Tx<'_>,
    stripe: Option<&StripeApi>,
    event: &StripeEvent,
    connect: bool,
    held: Option<Locked<'_>>,
) -> Result<Outcome, BillingError> {
    match action(&event.kind, connect) {
        Some(Action::Checkout) => checkout_completed(tx, event, held).await,
        Some(Action::Subscription) => {
            let object: SubscriptionObject = event.object().map_err(bad_object)?;
            subscription_changed(tx, stripe, event, object, held).await
        }
        Some(Action::Invoice) => invoice(tx, event, held).await,
        Some(Action::Account) => account_updated(tx, event).await,
        None => Ok(Outcome::Ignored),
    }
}

/// The subscription's row under its lock ([`store::subscriptions::lock`]): as the claim read it when
/// `held` is that subscription, else locked (unless held) and read.
async fn read_locked(
    tx: &mut Tx<'_>,
    held: Option<Locked<'_>>,
    subscription_id: &str,
) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    match held {
        Some(Locked { id, row: Some(row) }) if id == subscription_id => return Ok(Some(row)),
        Some(Locked { id, row: None }) if id == subscription_id => {}
        _ => store::subscriptions::lock(tx, subscription_id).await?,
    }
    store::subscriptions::get(tx, subscription_id).await
}

fn tenant_from(metadata: &std::collections::HashMap<String, String>) -> Option<Uuid> {
    metadata
        .get("tenant_id")
        .and_then(|id| Uuid::parse_str(id).ok())
}

/// The guarded write of a subscription's state. Older than the mirror → stale; same `created` from
/// another event → Stripe decides (re-read), since the order within one second is unknowable.
async fn subscription_changed(
    tx: &mut Tx<'_>,
    stripe: Option<&StripeApi>,
    event: &StripeEvent,
    mut object: SubscriptionObject,
    held: Option<Locked<'_>>,
) -> Result<Outcome, BillingError> {
    let existing = read_locked(tx, held, &object.id).await?;
    if let Some(row) = existing.as_ref().filter(|row| !row.is_provisional()) {
        if event.created_at() < row.last_event_created {
            return Ok(Outcome::Stale);
        }
        if event.created_at() == row.last_event_created && event.id != row.last_event_id {
            match stripe {
                Some(stripe) => {
                    object = stripe
                        .subscription(&object.id)
                        .await
                        .map_err(BillingError::StripeUnavailable)?;
                }
                // Without an API key nothing can be re-read; the later delivery wins and the
                // reconciliation job repairs any difference.
                None => {
                    tracing::warn!(stripe.event_id = %event.id, "version tie without a Stripe client")
                }
            }
        }
    }
    mirror(tx, &Cause::of(event), &object, existing.as_ref()).await?;
    Ok(Outcome::Applied)
}

/// Why the mirror changes: a Stripe event, or reconciliation.
#[derive(Debug)]
pub(crate) struct Cause<'a> {
    /// The Stripe event id (or a reconciliation run's id), stored as the row's version id.
    pub(crate) event_id: &'a str,
    /// The version: the event's `created` (or when reconciliation read Stripe).
    pub(crate) created: chrono::DateTime<chrono::Utc>,
    /// For the tenancy audit row ("customer.subscription.updated", "reconciliation").
    pub(crate) reason: &'a str,
}

impl<'a> Cause<'a> {
    /// The cause of a change a Stripe event brings.
    pub(crate) fn of(event: &'a StripeEvent) -> Self {
        Self {
            event_id: &event.id,
            created: event.created_at(),
            reason: &event.kind,
        }
    }
}

/// Writes Stripe's view of a subscription into the mirror and the tenant's entitlement (the one code
/// path for webhooks and reconciliation; the caller holds the subscription's lock).
pub(crate) async fn mirror(
    tx: &mut Tx<'_>,
    cause: &Cause<'_>,
    object: &SubscriptionObject,
    existing: Option<&SubscriptionRow>,
) -> Result<(), BillingError> {
    let customer = object.customer.as_ref().map(|c| c.id().to_owned());
    let mut tenant_id = tenant_from(&object.metadata).or(existing.and_then(|r| r.tenant_id));
    if tenant_id.is_none()
        && let Some(customer) = &customer
    {
        tenant_id = store::subscriptions::tenant_for_customer(tx, customer).await?;
    }
    let mut row = SubscriptionRow {
        stripe_subscription_id: object.id.clone(),
        tenant_id,
        stripe_customer_id: customer,
        status: object.status.as_str().to_owned(),
        stripe_price_id: object.price_id(),
        plan_id: existing.and_then(|r| r.plan_id),
        seats: object.seats(),
        current_period_end: object.period_end(),
        trial_end: object.trial_end_at(),
        cancel_at_period_end: object.cancel_at_period_end,
        last_event_created: cause.created,
        last_event_id: cause.event_id.to_owned(),
    };
    row.plan_id = store::subscriptions::put(tx, &row, plan_source(&object.metadata)).await?;
    let before = existing.and_then(|r| SubscriptionStatus::parse(&r.status));
    crate::funnel::subscription_moved(tx, &row, before, object.status).await?;
    entitle(tx, cause, &row, object.status).await
}

/// The plan: `metadata.plan_id` when it names a known plan, else the one sold at the price (else the
/// row's own), resolved in the mirror write's statement.
fn plan_source(metadata: &std::collections::HashMap<String, String>) -> PlanSource {
    PlanSource::Resolve {
        metadata_plan: metadata
            .get("plan_id")
            .and_then(|id| Uuid::parse_str(id).ok()),
    }
}

/// Moves the tenant's entitlement to what its subscriptions mean (outbox row on change). A tenant may
/// have several (an upgrade through a second Checkout, an old one lapsing): the governing one decides,
/// so a late event for a lapsed subscription never cancels a live one. A subscription that never went
/// live does not end an active trial or grant that did not come from Stripe. The caller has written
/// `row` with [`store::subscriptions::put`], which took the tenant's lock.
async fn entitle(
    tx: &mut Tx<'_>,
    cause: &Cause<'_>,
    row: &SubscriptionRow,
    status: SubscriptionStatus,
) -> Result<(), BillingError> {
    let Some(tenant_id) = row.tenant_id else {
        tracing::warn!(stripe.event_id = %cause.event_id, subscription = %row.stripe_subscription_id,
            "subscription maps to no tenant; mirrored only");
        return Ok(());
    };
    // The tenant's subscriptions (this one as just written among them) and its entitlement, locked
    // for the write below, in one statement.
    let (current, subscriptions) =
        store::entitlements::lock_with_subscriptions(tx, tenant_id).await?;
    let governing = governing(subscriptions, |other| {
        (
            SubscriptionStatus::parse(&other.status),
            other.last_event_created,
        )
    });
    let (row, status) = match governing {
        Some(other) if other.stripe_subscription_id != row.stripe_subscription_id => {
            let status = SubscriptionStatus::parse(&other.status).unwrap_or(status);
            (other, status)
        }
        _ => (row.clone(), status),
    };
    if status.entitlement() != EntitlementState::Active
        && let Some(current) = &current
        && current.state == EntitlementState::Active.as_str()
        && current.source.as_deref() != Some(Source::StripeSubscription.as_str())
    {
        tracing::info!(stripe.event_id = %cause.event_id, %tenant_id,
            "subscription not live; the tenant's own trial or grant stays");
        return Ok(());
    }
    let change = Change {
        tenant_id,
        state: status.entitlement(),
        source: Source::StripeSubscription.as_str(),
        plan_id: row.plan_id,
        trial_ends_at: (status == SubscriptionStatus::Trialing)
            .then_some(row.trial_end)
            .flatten(),
        ends_at: row.current_period_end,
        occurred_at: cause.created,
        stripe_event_id: cause.event_id.starts_with("evt_").then_some(cause.event_id),
        reason: cause.reason,
    };
    store::entitlements::apply_over(tx, &change, current).await?;
    Ok(())
}

/// Checkout finished: link the tenant to its customer and, unless a subscription event got here
/// first, record the subscription as paid (or trialing) so the tenant activates at once.
///
/// That row is provisional: the session says nothing about seats, trial end or period end, and its
/// `created` says nothing about the subscription's own history (Stripe usually sends the
/// subscription's events first, but they may arrive after, and are then older than the checkout).
/// So it is versioned older than any event ([`SubscriptionRow::PROVISIONAL`]) and the first
/// subscription event replaces it whatever its `created`.
async fn checkout_completed(
    tx: &mut Tx<'_>,
    event: &StripeEvent,
    held: Option<Locked<'_>>,
) -> Result<Outcome, BillingError> {
    let session: CheckoutSessionObject = event.object().map_err(bad_object)?;
    let tenant_id = session
        .client_reference_id
        .as_deref()
        .and_then(|id| Uuid::parse_str(id).ok())
        .or_else(|| tenant_from(&session.metadata));
    let Some(tenant_id) = tenant_id else {
        return Ok(Outcome::Ignored);
    };
    if let Some(customer) = &session.customer {
        let linked = store::subscriptions::link_customer(tx, tenant_id, customer.id()).await?;
        if linked.as_deref() != Some(customer.id()) {
            tracing::warn!(stripe.event_id = %event.id, %tenant_id, "checkout used a second customer");
        }
    }
    let Some(subscription) = &session.subscription else {
        return Ok(Outcome::Applied);
    };
    if read_locked(tx, held, subscription.id()).await?.is_some() {
        // A subscription event already mirrored Stripe's state, which is at least as precise.
        return Ok(Outcome::Applied);
    }
    let status = match session.payment_status.as_deref() {
        Some("paid") => SubscriptionStatus::Active,
        Some("no_payment_required") => SubscriptionStatus::Trialing,
        _ => SubscriptionStatus::Incomplete,
    };
    let mut row = SubscriptionRow {
        stripe_subscription_id: subscription.id().to_owned(),
        tenant_id: Some(tenant_id),
        stripe_customer_id: session.customer.as_ref().map(|c| c.id().to_owned()),
        status: status.as_str().to_owned(),
        stripe_price_id: None,
        plan_id: None,
        seats: 0,
        current_period_end: None,
        trial_end: None,
        cancel_at_period_end: false,
        last_event_created: SubscriptionRow::PROVISIONAL,
        last_event_id: event.id.clone(),
    };
    row.plan_id = store::subscriptions::put(tx, &row, plan_source(&session.metadata)).await?;
    crate::funnel::subscription_moved(tx, &row, None, status).await?;
    entitle(tx, &Cause::of(event), &row, status).await?;
    Ok(Outcome::Applied)
}

/// Invoices move a mirrored subscription only when strictly newer than what it shows: a failed
/// renewal marks an active one past due, a paid invoice clears past due. The subscription events that
/// Stripe sends alongside carry the full state.
async fn invoice(
    tx: &mut Tx<'_>,
    event: &StripeEvent,
    held: Option<Locked<'_>>,
) -> Result<Outcome, BillingError> {
    let invoice: InvoiceObject = event.object().map_err(bad_object)?;
    let Some(subscription_id) = invoice.subscription_id() else {
        return Ok(Outcome::Ignored);
    };
    let Some(mut row) = read_locked(tx, held, &subscription_id).await? else {
        return Ok(Outcome::Ignored);
    };
    let provisional = row.is_provisional();
    if !provisional && event.created_at() <= row.last_event_created {
        return Ok(Outcome::Stale);
    }
    let current = SubscriptionStatus::parse(&row.status);
    use SubscriptionStatus as S;
    let next = match (event.kind.as_str(), current) {
        ("invoice.payment_failed", Some(S::Active | S::Trialing)) => S::PastDue,
        ("invoice.paid", Some(S::PastDue | S::Unpaid | S::Incomplete)) => S::Active,
        _ => return Ok(Outcome::Applied),
    };
    row.status = next.as_str().to_owned();
    // A provisional row stays provisional: its details still wait for a subscription event.
    if !provisional {
        row.last_event_created = event.created_at();
        row.last_event_id = event.id.clone();
    }
    store::subscriptions::put(tx, &row, PlanSource::Row).await?;
    crate::funnel::subscription_moved(tx, &row, current, next).await?;
    entitle(tx, &Cause::of(event), &row, next).await?;
    Ok(Outcome::Applied)
}

/// Connect account changes belong to onboarding: relay them through the outbox.
async fn account_updated(tx: &mut Tx<'_>, event: &StripeEvent) -> Result<Outcome, BillingError> {
    let account: AccountObject = event.object().map_err(bad_object)?;
    let update = AccountUpdate {
        stripe_event_id: event.id.clone(),
        event_created: event.created_at(),
        stripe_account_id: account.id,
        details_submitted: account.details_submitted,
        charges_enabled: account.charges_enabled,
        payouts_enabled: account.payouts_enabled,
        requirements: account.requirements.unwrap_or_default(),
    };
    outbox::insert(tx, Topic::Onboarding, None, &update).await?;
    Ok(Outcome::Applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_account_events_are_acted_on_at_the_connect_endpoint() {
        assert!(acts_on("account.updated", true));
        assert!(!acts_on("customer.subscription.updated", true));
        assert!(!acts_on("checkout.session.completed", true));
        assert!(acts_on("customer.subscription.updated", false));
        assert!(acts_on("invoice.payment_failed", false));
        assert!(!acts_on("customer.created", false));
        assert!(!acts_on("ping", false));
    }
}
