//! Reconciliation: reads every subscription from Stripe, compares it with the mirror and repairs drift
//! through the webhook handler's own code path (so tenancy hears about it through the outbox), with a
//! report of what differed and what was done.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    error::BillingError,
    peers::Tenancy,
    store,
    stripe::StripeApi,
    webhook::{
        event::SubscriptionObject,
        handler::{Cause, mirror},
    },
};

/// One difference between Stripe and the mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Drift {
    pub(crate) tenant_id: Option<Uuid>,
    pub(crate) stripe_object_id: String,
    pub(crate) field: &'static str,
    pub(crate) mirror_value: String,
    pub(crate) stripe_value: String,
    pub(crate) repaired: bool,
}

/// What a run found and did.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) started_at: DateTime<Utc>,
    pub(crate) finished_at: DateTime<Utc>,
    pub(crate) checked: u32,
    pub(crate) drifts: Vec<Drift>,
    /// Tenants billing holds an entitlement for that tenancy never committed (provisioning failed
    /// after EnsureEntitlement): reported for cleanup, never deleted here.
    pub(crate) orphans: Vec<Uuid>,
}

/// The reconciliation job.
#[derive(Debug, Clone)]
pub(crate) struct Reconciler {
    pub(crate) pool: PgPool,
    pub(crate) stripe: Option<StripeApi>,
    pub(crate) tenancy: Tenancy,
    /// How long an entitlement must be unchanged before its unknown tenant counts as an orphan.
    pub(crate) orphan_grace: std::time::Duration,
}

/// How many orphan candidates one run asks tenancy about.
const ORPHAN_CANDIDATES: i64 = 1000;

fn text<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl Reconciler {
    /// One run; `only` limits it to one tenant.
    pub(crate) async fn run(
        &self,
        dry_run: bool,
        only: Option<Uuid>,
    ) -> Result<Report, BillingError> {
        let stripe = self.stripe.as_ref().ok_or_else(|| {
            BillingError::PermissionDenied("reconciliation needs the stripe provider".to_owned())
        })?;
        let started_at = Utc::now();
        let read_at = read_version(started_at);
        let subscriptions = stripe
            .list_subscriptions()
            .await
            .map_err(BillingError::StripeUnavailable)?;
        let run_id = format!("reconcile-{}", Uuid::now_v7());
        let mut report = Report {
            started_at,
            finished_at: started_at,
            checked: 0,
            drifts: Vec::new(),
            orphans: Vec::new(),
        };
        let mut seen = HashSet::new();
        for object in &subscriptions {
            seen.insert(object.id.clone());
            let mut tx = self.pool.begin().await?;
            store::subscriptions::lock(&mut tx, &object.id).await?;
            let existing = store::subscriptions::get(&mut tx, &object.id).await?;
            let tenant = existing.as_ref().and_then(|row| row.tenant_id).or_else(|| {
                object
                    .metadata
                    .get("tenant_id")
                    .and_then(|id| Uuid::parse_str(id).ok())
            });
            if only.is_some() && tenant != only {
                continue;
            }
            report.checked += 1;
            let drifts = compare(tenant, object, existing.as_ref());
            // An event applied after the read is newer than what was read: it stands, and a later
            // run compares again.
            let overtaken = existing
                .as_ref()
                .is_some_and(|row| !row.is_provisional() && row.last_event_created > read_at);
            let repair = !dry_run && !drifts.is_empty() && !overtaken;
            if repair {
                let cause = Cause {
                    event_id: &run_id,
                    created: read_at,
                    reason: "reconciliation",
                };
                mirror(&mut tx, &cause, object, existing.as_ref()).await?;
                tx.commit().await?;
            }
            report.drifts.extend(drifts.into_iter().map(|drift| Drift {
                repaired: repair,
                ..drift
            }));
        }
        // Mirrored subscriptions Stripe no longer has: reported for operators, never guessed at.
        for row in store::subscriptions::live(&self.pool).await? {
            if !seen.contains(&row.stripe_subscription_id)
                && (only.is_none() || row.tenant_id == only)
            {
                report.drifts.push(Drift {
                    tenant_id: row.tenant_id,
                    stripe_object_id: row.stripe_subscription_id,
                    field: "missing_in_stripe",
                    mirror_value: row.status,
                    stripe_value: String::new(),
                    repaired: false,
                });
            }
        }
        report.orphans = self.orphans(only).await?;
        report.finished_at = Utc::now();
        count_drifts(&report.drifts, report.orphans.len());
        Ok(report)
    }

    /// Settled entitlements whose tenant tenancy does not know (empty without a tenancy address).
    async fn orphans(&self, only: Option<Uuid>) -> Result<Vec<Uuid>, BillingError> {
        let grace = chrono::Duration::from_std(self.orphan_grace).unwrap_or(chrono::Duration::MAX);
        let before = Utc::now()
            .checked_sub_signed(grace)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let candidates =
            store::entitlements::unchanged_since(&self.pool, before, only, ORPHAN_CANDIDATES)
                .await?;
        let mut orphans = Vec::new();
        for tenant in candidates {
            if self.tenancy.knows(tenant).await? == Some(false) {
                orphans.push(tenant);
            }
        }
        Ok(orphans)
    }
}

/// The version a repair carries: when Stripe was read, not when the repair is written (the write may
/// wait for a subscription's lock while newer events land). Whole seconds, rounded down, like an
/// event's `created`: an event from the same second is then a tie, which the webhook handler settles
/// by reading Stripe again, instead of being wrongly judged older.
fn read_version(read_started: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(read_started.timestamp(), 0).unwrap_or(read_started)
}

/// The differences that matter: existence, status, price and period end.
fn compare(
    tenant_id: Option<Uuid>,
    object: &SubscriptionObject,
    mirror: Option<&store::subscriptions::SubscriptionRow>,
) -> Vec<Drift> {
    let drift = |field, mirror_value: String, stripe_value: String| Drift {
        tenant_id,
        stripe_object_id: object.id.clone(),
        field,
        mirror_value,
        stripe_value,
        repaired: false,
    };
    let Some(row) = mirror else {
        return vec![drift(
            "missing_in_mirror",
            String::new(),
            object.status.as_str().to_owned(),
        )];
    };
    let mut drifts = Vec::new();
    if row.status != object.status.as_str() {
        drifts.push(drift(
            "status",
            row.status.clone(),
            object.status.as_str().to_owned(),
        ));
    }
    if object.price_id().is_some() && row.stripe_price_id != object.price_id() {
        drifts.push(drift(
            "plan",
            text(row.stripe_price_id.clone()),
            text(object.price_id()),
        ));
    }
    if object.period_end().is_some() && row.current_period_end != object.period_end() {
        drifts.push(drift(
            "current_period_end",
            text(row.current_period_end.map(|t| t.to_rfc3339())),
            text(object.period_end().map(|t| t.to_rfc3339())),
        ));
    }
    drifts
}

/// `onramp_reconciliation_drift_total{kind,action}`: every drift found, and again those repaired.
/// `kind` is the compared field (a fixed set), never an id; orphan tenants are found, never repaired.
fn count_drifts(drifts: &[Drift], orphans: usize) {
    metrics::counter!("onramp_reconciliation_drift_total", "kind" => "orphan_tenant", "action" => "found")
        .increment(orphans as u64);
    for drift in drifts {
        metrics::counter!("onramp_reconciliation_drift_total", "kind" => drift.field, "action" => "found")
            .increment(1);
        if drift.repaired {
            metrics::counter!("onramp_reconciliation_drift_total", "kind" => drift.field, "action" => "repaired")
                .increment(1);
        }
    }
}
