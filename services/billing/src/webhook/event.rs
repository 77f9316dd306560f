//! The parts of a Stripe event billing reads, taken from the raw JSON (after the signature verified).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::domain::subscription::SubscriptionStatus;

/// A Stripe event envelope.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StripeEvent {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) created: i64,
    #[serde(default)]
    pub(crate) account: Option<String>,
    pub(crate) data: EventData,
}

/// `data` of an event.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct EventData {
    pub(crate) object: Value,
}

impl StripeEvent {
    /// Parses a payload; the error names what is missing.
    pub(crate) fn parse(payload: &[u8]) -> Result<Self, String> {
        let event: Self =
            serde_json::from_slice(payload).map_err(|e| format!("not a Stripe event: {e}"))?;
        if !event.id.starts_with("evt_") {
            return Err("event id must start with evt_".to_owned());
        }
        Ok(event)
    }

    /// The event's `created` as a timestamp (Stripe's clock; the version guard).
    pub(crate) fn created_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.created, 0).unwrap_or_default()
    }

    /// The subscription the event concerns, read from the raw object without deserializing it: a
    /// subscription's own id; an invoice's or Checkout session's `subscription` (bare or expanded),
    /// or a newer invoice's `parent.subscription_details.subscription`.
    pub(crate) fn subscription_id(&self) -> Option<&str> {
        let object = &self.data.object;
        if self.kind.starts_with("customer.subscription.") {
            return object.get("id")?.as_str();
        }
        match object.get("subscription") {
            Some(Value::String(id)) => Some(id),
            Some(Value::Null) | None => object
                .pointer("/parent/subscription_details/subscription")?
                .as_str(),
            Some(expanded) => expanded.get("id")?.as_str(),
        }
    }

    /// The data object as `T`, read from the parsed tree in place (the payload is parsed once, and
    /// the object is not cloned to be read).
    pub(crate) fn object<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        T::deserialize(&self.data.object).map_err(|e| format!("{} object: {e}", self.kind))
    }
}

/// An id that Stripe sends either bare or as an expanded object.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Expandable {
    Id(String),
    Object { id: String },
}

impl Expandable {
    pub(crate) fn id(&self) -> &str {
        match self {
            Self::Id(id) | Self::Object { id } => id,
        }
    }
}

/// A subscription object (the fields billing mirrors).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SubscriptionObject {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) customer: Option<Expandable>,
    pub(crate) status: SubscriptionStatus,
    #[serde(default)]
    pub(crate) metadata: HashMap<String, String>,
    #[serde(default)]
    pub(crate) items: Option<ItemList>,
    /// Older API versions carry the period on the subscription, newer ones on each item.
    #[serde(default)]
    pub(crate) current_period_end: Option<i64>,
    #[serde(default)]
    pub(crate) trial_end: Option<i64>,
    #[serde(default)]
    pub(crate) cancel_at_period_end: bool,
}

/// `items` of a subscription.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ItemList {
    #[serde(default)]
    pub(crate) data: Vec<Item>,
}

/// One subscription item.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Item {
    #[serde(default)]
    pub(crate) price: Option<Expandable>,
    #[serde(default)]
    pub(crate) quantity: Option<i64>,
    #[serde(default)]
    pub(crate) current_period_end: Option<i64>,
}

impl SubscriptionObject {
    fn first_item(&self) -> Option<&Item> {
        self.items.as_ref().and_then(|items| items.data.first())
    }

    pub(crate) fn price_id(&self) -> Option<String> {
        self.first_item()
            .and_then(|item| item.price.as_ref())
            .map(|price| price.id().to_owned())
    }

    pub(crate) fn seats(&self) -> i32 {
        self.first_item()
            .and_then(|item| item.quantity)
            .and_then(|q| i32::try_from(q).ok())
            .unwrap_or(0)
    }

    pub(crate) fn period_end(&self) -> Option<DateTime<Utc>> {
        self.current_period_end
            .or_else(|| self.first_item().and_then(|item| item.current_period_end))
            .and_then(|t| DateTime::from_timestamp(t, 0))
    }

    pub(crate) fn trial_end_at(&self) -> Option<DateTime<Utc>> {
        self.trial_end.and_then(|t| DateTime::from_timestamp(t, 0))
    }
}

/// A Checkout session object.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CheckoutSessionObject {
    #[serde(default)]
    pub(crate) customer: Option<Expandable>,
    #[serde(default)]
    pub(crate) subscription: Option<Expandable>,
    #[serde(default)]
    pub(crate) client_reference_id: Option<String>,
    #[serde(default)]
    pub(crate) metadata: HashMap<String, String>,
    #[serde(default)]
    pub(crate) payment_status: Option<String>,
}

/// An invoice object (the subscription it belongs to, in old and new API shapes).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct InvoiceObject {
    #[serde(default)]
    pub(crate) subscription: Option<Expandable>,
    #[serde(default)]
    pub(crate) parent: Option<Value>,
}

impl InvoiceObject {
    pub(crate) fn subscription_id(&self) -> Option<String> {
        if let Some(subscription) = &self.subscription {
            return Some(subscription.id().to_owned());
        }
        self.parent
            .as_ref()
            .and_then(|parent| parent.pointer("/subscription_details/subscription"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
}

/// A Connect account object (relayed to onboarding).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AccountObject {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) details_submitted: bool,
    #[serde(default)]
    pub(crate) charges_enabled: bool,
    #[serde(default)]
    pub(crate) payouts_enabled: bool,
    #[serde(default)]
    pub(crate) requirements: Option<Requirements>,
}

/// `requirements` of an account.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub(crate) struct Requirements {
    #[serde(default)]
    pub(crate) currently_due: Vec<String>,
    #[serde(default)]
    pub(crate) past_due: Vec<String>,
    #[serde(default)]
    pub(crate) pending_verification: Vec<String>,
    #[serde(default)]
    pub(crate) disabled_reason: Option<String>,
}
