//! The outbox relay: delivers outbox rows to tenancy and onboarding by RPC until they acknowledge them.
//! Receivers are idempotent on the event id, so at-least-once delivery has exactly-once effect. A row is
//! only ever marked delivered after an OK; anything else keeps it, with backoff.

use std::time::Duration;

use onramp_kit::grpc::{
    client::{self, TracedChannel},
    convert::timestamp,
};
use onramp_proto::{
    onboarding::v1::{
        ApplyConnectAccountUpdateRequest, onboarding_service_client::OnboardingServiceClient,
    },
    tenancy::v1::{
        ApplyBillingEventRequest, LifecycleTransition, tenancy_service_client::TenancyServiceClient,
    },
};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tonic::Code;

use crate::{
    domain::subscription::Transition,
    store::outbox::{self, AccountUpdate, LifecycleEvent, OutboxRow, Topic},
};

/// The labels of billing's event outbox in the shared outbox metrics.
const OUTBOX_LABELS: &[(&str, &str); 2] = &[("service", "billing"), ("outbox", "events")];

/// How long a leased row is hidden from other relays while its call is in flight.
const LEASE: Duration = Duration::from_secs(30);
const BATCH: i64 = 20;
/// How many NOT_FOUND answers an outbox row gets before it is parked.
const UNKNOWN_TENANT_ATTEMPTS: i32 = 10;

/// The relay and its peers (a peer without an address leaves its rows waiting).
#[derive(Debug, Clone)]
pub(crate) struct Relay {
    pool: PgPool,
    tenancy: Option<TenancyServiceClient<TracedChannel>>,
    onboarding: Option<OnboardingServiceClient<TracedChannel>>,
    poll_interval: Duration,
    max_backoff: Duration,
}

impl Relay {
    pub(crate) fn new(
        pool: PgPool,
        tenancy_addr: Option<&str>,
        onboarding_addr: Option<&str>,
        poll_interval: Duration,
        max_backoff: Duration,
    ) -> anyhow::Result<Self> {
        let connect = |addr: &str| anyhow::Ok(client::traced(client::channel(addr)?));
        Ok(Self {
            pool,
            tenancy: tenancy_addr
                .map(connect)
                .transpose()?
                .map(TenancyServiceClient::new),
            onboarding: onboarding_addr
                .map(connect)
                .transpose()?
                .map(OnboardingServiceClient::new),
            poll_interval,
            max_backoff,
        })
    }

    /// Polls until `stop` fires.
    pub(crate) async fn run(self, stop: CancellationToken) {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(self.poll_interval) => {}
            }
            if let Err(error) = self.pass().await {
                tracing::warn!(error = %error, "outbox relay pass failed");
            }
            if let Ok((depth, oldest)) = outbox::backlog(&self.pool).await {
                #[allow(clippy::cast_precision_loss)] // a backlog stays far below 2^52 rows
                metrics::gauge!("onramp_outbox_depth", OUTBOX_LABELS).set(depth as f64);
                metrics::gauge!("onramp_outbox_oldest_age_seconds", OUTBOX_LABELS).set(oldest);
            }
        }
    }

    async fn pass(&self) -> Result<(), sqlx::Error> {
        if self.tenancy.is_none() && self.onboarding.is_none() {
            return Ok(());
        }
        for row in outbox::lease_due(&self.pool, BATCH, LEASE).await? {
            let delivered = self.deliver(&row).await;
            if delivered.is_err() {
                metrics::counter!("onramp_outbox_relay_failures_total", OUTBOX_LABELS).increment(1);
            }
            match delivered {
                Ok(()) => outbox::delivered(&self.pool, row.id).await?,
                // Tenancy may not have committed a tenant billing already entitled (EnsureEntitlement
                // runs before tenancy's transaction): an unknown tenant is retried for a while first.
                Err(Failure::UnknownTenant(error)) if row.attempts < UNKNOWN_TENANT_ATTEMPTS => {
                    let delay = backoff(row.attempts, self.max_backoff);
                    outbox::retry_later(&self.pool, row.id, delay, &error).await?;
                }
                Err(Failure::Permanent(error) | Failure::UnknownTenant(error)) => {
                    tracing::error!(outbox_id = %row.id, topic = row.topic, error, "outbox row parked");
                    outbox::park(&self.pool, row.id, &error).await?;
                }
                Err(Failure::Transient(error)) => {
                    let delay = backoff(row.attempts, self.max_backoff);
                    tracing::info!(outbox_id = %row.id, topic = row.topic, error, ?delay, "outbox retry");
                    outbox::retry_later(&self.pool, row.id, delay, &error).await?;
                }
            }
        }
        Ok(())
    }

    async fn deliver(&self, row: &OutboxRow) -> Result<(), Failure> {
        let bad = |e: serde_json::Error| Failure::Permanent(format!("bad payload: {e}"));
        match Topic::parse(&row.topic) {
            Some(Topic::Tenancy) => {
                let Some(client) = self.tenancy.clone() else {
                    return Err(Failure::Transient(
                        "no tenancy address configured".to_owned(),
                    ));
                };
                let event: LifecycleEvent =
                    serde_json::from_value(row.payload.clone()).map_err(bad)?;
                let request = ApplyBillingEventRequest {
                    event_id: row.id.to_string(),
                    tenant_id: event.tenant_id.to_string(),
                    transition: transition(event.transition) as i32,
                    billing_version: event.billing_version,
                    occurred_at: Some(timestamp(event.occurred_at)),
                    plan_id: event.plan_id.map(|id| id.to_string()).unwrap_or_default(),
                    stripe_event_id: event.stripe_event_id.unwrap_or_default(),
                    reason: event.reason,
                };
                let mut client = client;
                client
                    .apply_billing_event(request)
                    .await
                    .map(drop)
                    .map_err(classify)
            }
            Some(Topic::Onboarding) => {
                let Some(client) = self.onboarding.clone() else {
                    return Err(Failure::Transient(
                        "no onboarding address configured".to_owned(),
                    ));
                };
                let update: AccountUpdate =
                    serde_json::from_value(row.payload.clone()).map_err(bad)?;
                let requirements = update.requirements;
                let request = ApplyConnectAccountUpdateRequest {
                    event_id: update.stripe_event_id,
                    event_created: Some(timestamp(update.event_created)),
                    stripe_account_id: update.stripe_account_id,
                    details_submitted: update.details_submitted,
                    charges_enabled: update.charges_enabled,
                    payouts_enabled: update.payouts_enabled,
                    requirements_currently_due: requirements.currently_due,
                    requirements_past_due: requirements.past_due,
                    requirements_pending_verification: requirements.pending_verification,
                    disabled_reason: requirements.disabled_reason.unwrap_or_default(),
                };
                let mut client = client;
                client
                    .apply_connect_account_update(request)
                    .await
                    .map(drop)
                    .map_err(classify)
            }
            None => Err(Failure::Permanent(format!("unknown topic {}", row.topic))),
        }
    }
}

enum Failure {
    /// The receiver does not know the tenant (yet).
    UnknownTenant(String),
    /// The receiver refused the event for good (unknown tenant, illegal transition, bad request).
    Permanent(String),
    /// Anything else, UNIMPLEMENTED included (a receiver not deployed yet): retry later.
    Transient(String),
}

fn classify(status: tonic::Status) -> Failure {
    let summary = format!("{:?}: {}", status.code(), status.message());
    match status.code() {
        Code::NotFound => Failure::UnknownTenant(summary),
        Code::Aborted | Code::InvalidArgument => Failure::Permanent(summary),
        _ => Failure::Transient(summary),
    }
}

/// Exponential from 1 s, capped, with jitter in [50 %, 100 %] so many rows do not retry in lockstep.
fn backoff(attempts: i32, max: Duration) -> Duration {
    let exponential = Duration::from_secs(1u64 << attempts.clamp(0, 20));
    let capped = exponential.min(max);
    let jitter = 0.5 + f64::from(uuid::Uuid::new_v4().as_u128() as u16) / f64::from(u16::MAX) / 2.0;
    capped.mul_f64(jitter)
}

fn transition(transition: Transition) -> LifecycleTransition {
    match transition {
        Transition::Activate => LifecycleTransition::Activate,
        Transition::MarkPastDue => LifecycleTransition::MarkPastDue,
        Transition::Suspend => LifecycleTransition::Suspend,
        Transition::Cancel => LifecycleTransition::Cancel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let max = Duration::from_secs(300);
        for attempts in 0..30 {
            let delay = backoff(attempts, max);
            let ceiling = Duration::from_secs(1u64 << attempts.clamp(0, 20)).min(max);
            assert!(
                delay <= ceiling && delay >= ceiling / 2,
                "{attempts}: {delay:?}"
            );
        }
    }
}
