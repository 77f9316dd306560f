//! The self-serve funnel as product events, through each context's own transactional outbox: a
//! service records a [`ProductEvent`] with [`emit`] inside the transaction that commits the fact, so
//! an event exists if and only if its fact does. The [`relay::ProductEventRelay`] sends pending rows
//! in batches to a PostHog-compatible capture API (`POSTHOG_HOST`, `POSTHOG_API_KEY`; off when
//! unset), and [`counts`] answers the operators' funnel from the same rows.
//!
//! Properties carry ids, plan ids and step names only: a value that is not label-shaped (an email,
//! a person's name) is dropped before it is stored, so no code path can leak one into analytics.

pub mod counts;
pub mod relay;
pub mod settings;

use std::collections::BTreeMap;

use sqlx::PgConnection;
use uuid::Uuid;

/// The product-event table's DDL, to copy into a service's migrations.
pub const TABLE_SQL: &str = include_str!("table.sql");

/// The outbox label of the product-event outbox in the shared outbox metrics.
pub const OUTBOX: &str = "product_events";

/// Event names, one per fact, each emitted by the context that commits it.
pub mod names {
    /// identity: a new account (password or OAuth).
    pub const ACCOUNT_CREATED: &str = "account_created";
    /// identity: the account's email was proven (link, password reset, or the OAuth provider).
    pub const EMAIL_VERIFIED: &str = "email_verified";
    /// tenancy: a workspace was provisioned.
    pub const WORKSPACE_CREATED: &str = "workspace_created";
    /// billing: a plan was picked for a workspace (at provisioning or later, without a card).
    pub const PLAN_CHOSEN: &str = "plan_chosen";
    /// billing: a Stripe Checkout session was created.
    pub const CHECKOUT_STARTED: &str = "checkout_started";
    /// billing: a paid subscription went live (first payment, or a trial's end paid).
    pub const PAYMENT_CONFIRMED: &str = "payment_confirmed";
    /// tenancy: a workspace left `pending_payment` for `active`.
    pub const WORKSPACE_ACTIVATED: &str = "workspace_activated";
    /// billing: a trial began (card-less, or Stripe trialing).
    pub const TRIAL_STARTED: &str = "trial_started";
    /// billing: a workspace that trialled paid.
    pub const TRIAL_CONVERTED: &str = "trial_converted";
    /// tenancy: an invite was created and its mail queued.
    pub const INVITE_SENT: &str = "invite_sent";
    /// tenancy: an invite was accepted.
    pub const INVITE_ACCEPTED: &str = "invite_accepted";
    /// onboarding: a user completed a checklist step.
    pub const ONBOARDING_STEP_COMPLETED: &str = "onboarding_step_completed";
    /// onboarding: nothing is left pending on a user's checklist.
    pub const ONBOARDING_FINISHED: &str = "onboarding_finished";
    /// onboarding: a sales lead was stored (anonymous: its distinct id is the lead's id).
    pub const SALES_LEAD: &str = "sales_lead";
}

/// The funnel's steps in order: what `GET /v1/admin/funnel` converts between.
pub const FUNNEL: &[&str] = &[
    names::ACCOUNT_CREATED,
    names::EMAIL_VERIFIED,
    names::WORKSPACE_CREATED,
    names::PLAN_CHOSEN,
    names::CHECKOUT_STARTED,
    names::PAYMENT_CONFIRMED,
    names::WORKSPACE_ACTIVATED,
    names::ONBOARDING_STEP_COMPLETED,
    names::ONBOARDING_FINISHED,
];

/// Events beside the funnel's line: counted, but not steps every user passes.
pub const SIDE_EVENTS: &[&str] = &[
    names::TRIAL_STARTED,
    names::TRIAL_CONVERTED,
    names::INVITE_SENT,
    names::INVITE_ACCEPTED,
    names::SALES_LEAD,
];

/// A property value: only shapes that cannot hold an email or a person's name.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An id (user, tenant, plan, invite, lead).
    Id(Uuid),
    /// A label: a plan code, step id, method or provider id (`[a-z0-9_.:-]`, at most 64).
    Label(String),
    /// A flag.
    Flag(bool),
    /// A count.
    Count(i64),
}

impl From<Uuid> for Value {
    fn from(id: Uuid) -> Self {
        Self::Id(id)
    }
}

impl From<&str> for Value {
    fn from(label: &str) -> Self {
        Self::Label(label.to_owned())
    }
}

impl From<String> for Value {
    fn from(label: String) -> Self {
        Self::Label(label)
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Self {
        Self::Flag(flag)
    }
}

impl From<i64> for Value {
    fn from(count: i64) -> Self {
        Self::Count(count)
    }
}

/// Whether `text` is label-shaped: lowercase ASCII letters, digits and `_ . : -`, 1–64 long. An
/// email (`@`) or a name (spaces, capitals) never is.
pub fn is_label(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.:-".contains(&b))
}

impl Value {
    fn to_json(&self) -> Option<serde_json::Value> {
        match self {
            Self::Id(id) => Some(serde_json::Value::String(id.to_string())),
            Self::Label(label) if is_label(label) => Some(serde_json::Value::String(label.clone())),
            Self::Label(_) => None,
            Self::Flag(flag) => Some(serde_json::Value::Bool(*flag)),
            Self::Count(count) => Some(serde_json::Value::from(*count)),
        }
    }
}

/// One product event: a fact's name, who it happened to and what identifies it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductEvent {
    /// One of [`names`].
    pub name: &'static str,
    /// The user's id (PostHog's `distinct_id`).
    pub distinct_id: String,
    /// Ids, plan ids and step names (see [`Value`]).
    pub properties: BTreeMap<&'static str, Value>,
    /// For a fact that can be reached again (a step completed twice): only the first is recorded.
    pub once_key: Option<String>,
}

impl ProductEvent {
    /// The event `name` for `distinct_id` (a user id), without properties.
    pub fn new(name: &'static str, distinct_id: impl ToString) -> Self {
        Self {
            name,
            distinct_id: distinct_id.to_string(),
            properties: BTreeMap::new(),
            once_key: None,
        }
    }

    /// Adds a property.
    #[must_use]
    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.properties.insert(key, value.into());
        self
    }

    /// Records the event at most once for `key` (scoped to the event's name).
    #[must_use]
    pub fn once(mut self, key: impl std::fmt::Display) -> Self {
        self.once_key = Some(format!("{}:{key}", self.name));
        self
    }

    /// The stored properties: label-shaped values only (others are dropped, never stored).
    pub fn properties_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (key, value) in &self.properties {
            match value.to_json() {
                Some(json) => {
                    map.insert((*key).to_owned(), json);
                }
                // The key is ours and safe to log; the value is exactly what must not be.
                None => tracing::warn!(
                    event = self.name,
                    property = *key,
                    "product event property is not label-shaped; dropped"
                ),
            }
        }
        serde_json::Value::Object(map)
    }
}

/// Records `event` as part of the caller's transaction (`conn` is the transaction). Returns whether
/// it was recorded: `false` only for a [`ProductEvent::once`] key already used.
pub async fn emit(conn: &mut PgConnection, event: &ProductEvent) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "insert into product_events (id, name, distinct_id, properties, once_key)
         values ($1, $2, $3, $4, $5) on conflict (once_key) do nothing",
    )
    .bind(Uuid::now_v7())
    .bind(event.name)
    .bind(&event.distinct_id)
    .bind(event.properties_json())
    .bind(&event.once_key)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_names_never_reach_the_properties() {
        let plan = Uuid::now_v7();
        let event = ProductEvent::new(names::PLAN_CHOSEN, Uuid::nil())
            .with("plan_id", plan)
            .with("plan_code", "pro")
            .with("email", "jane@example.com")
            .with("name", "Jane Doe")
            .with("trial", true);
        let json = event.properties_json();
        assert_eq!(
            json,
            serde_json::json!({"plan_id": plan.to_string(), "plan_code": "pro", "trial": true})
        );
    }

    #[test]
    fn once_keys_are_scoped_to_the_event() {
        let event = ProductEvent::new(names::EMAIL_VERIFIED, "u").once("u");
        assert_eq!(event.once_key.as_deref(), Some("email_verified:u"));
    }

    #[test]
    fn labels_are_small_lowercase_tokens() {
        assert!(is_label("first_setup"));
        assert!(is_label("trial_without_card"));
        assert!(!is_label("a@b.c"));
        assert!(!is_label("Jane"));
        assert!(!is_label(""));
        assert!(!is_label(&"x".repeat(65)));
    }
}
