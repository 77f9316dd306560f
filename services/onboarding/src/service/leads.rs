//! The public contact-sales form: store the lead and its notification in one transaction, at most
//! N per client IP per rolling hour across every replica.

use std::time::Duration;

use chrono::{DateTime, Utc};
use onramp_kit::mail::Email;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    domain::lead::SalesLead,
    error::OnboardingError,
    store::leads::{self as store, Stored},
};

/// The key leads without a client IP share (the gateway had no trusted proxy header).
pub(crate) const UNKNOWN_IP: &str = "unknown";

/// The sales-lead use case.
#[derive(Debug, Clone)]
pub(crate) struct Leads {
    pool: PgPool,
    per_hour: u32,
    notify: String,
}

impl Leads {
    /// Leads stored in `pool`, limited to `per_hour` per client IP, each notified to `notify`.
    pub(crate) fn new(pool: PgPool, per_hour: u32, notify: String) -> Self {
        Self {
            pool,
            per_hour,
            notify,
        }
    }

    /// Stores a lead, or refuses with RATE_LIMITED and when to come back.
    pub(crate) async fn submit(
        &self,
        client_ip: &str,
        user_agent: &str,
        lead: &SalesLead,
    ) -> Result<(Uuid, DateTime<Utc>), OnboardingError> {
        let key = if client_ip.is_empty() {
            UNKNOWN_IP
        } else {
            client_ip
        };
        let email = notification(&self.notify, key, lead);
        match store::store_lead(&self.pool, key, user_agent, lead, &email, self.per_hour).await? {
            Stored::Accepted { id, received_at } => Ok((id, received_at)),
            Stored::Limited { window_frees_at } => {
                let wait = (window_frees_at - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::from_secs(1))
                    .max(Duration::from_secs(1));
                Err(OnboardingError::RateLimited { retry_after: wait })
            }
        }
    }
}

/// The email the sales team gets for a lead.
fn notification(to: &str, client_ip: &str, lead: &SalesLead) -> Email {
    let optional = |value: &str| {
        if value.is_empty() {
            "-".to_owned()
        } else {
            value.to_owned()
        }
    };
    Email {
        to: to.to_owned(),
        subject: format!("New sales lead: {} ({})", lead.company, lead.full_name),
        body_text: format!(
            "Name: {}\nEmail: {}\nCompany: {}\nCompany size: {}\nPhone: {}\nSource: {}\nClient IP: {}\n\n{}\n",
            lead.full_name,
            lead.email,
            lead.company,
            lead.company_size,
            optional(&lead.phone),
            optional(&lead.source),
            client_ip,
            optional(&lead.message),
        ),
    }
}
