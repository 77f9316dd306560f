//! Operator RPCs around Stripe: reconciliation, the event log, the price sync (the operator check is
//! `crate::service::operations`').

use onramp_proto::billing::v1::{
    Drift as ProtoDrift, DriftAction, ReconcileWithStripeRequest, ReconcileWithStripeResponse,
};

use onramp_kit::grpc::convert::Page;
use uuid::Uuid;

use super::{BillingApi, tenant::user_of, tenant_id, timestamp};
use crate::error::BillingError;

impl BillingApi {
    pub(super) async fn reconcile(
        &self,
        request: ReconcileWithStripeRequest,
    ) -> Result<ReconcileWithStripeResponse, BillingError> {
        let user = user_of(request.caller.as_ref())?;
        let only = if request.tenant_id.is_empty() {
            None
        } else {
            Some(tenant_id(&request.tenant_id, "tenant_id")?)
        };
        let report = self
            .service
            .reconcile_with_stripe(user, request.dry_run, only)
            .await?;
        Ok(ReconcileWithStripeResponse {
            started_at: Some(timestamp(report.started_at)),
            finished_at: Some(timestamp(report.finished_at)),
            subscriptions_checked: report.checked,
            drifts: report
                .drifts
                .into_iter()
                .map(|drift| ProtoDrift {
                    tenant_id: drift.tenant_id.map(|id| id.to_string()).unwrap_or_default(),
                    stripe_object_id: drift.stripe_object_id,
                    field: drift.field.to_owned(),
                    mirror_value: drift.mirror_value,
                    stripe_value: drift.stripe_value,
                    action: if drift.repaired {
                        DriftAction::Repaired
                    } else {
                        DriftAction::Reported
                    } as i32,
                })
                .collect(),
            orphan_tenant_ids: report.orphans.iter().map(Uuid::to_string).collect(),
        })
    }
}

impl BillingApi {
    pub(super) async fn list_events(
        &self,
        request: onramp_proto::billing::v1::ListStripeEventsRequest,
    ) -> Result<onramp_proto::billing::v1::ListStripeEventsResponse, BillingError> {
        use onramp_proto::{billing::v1::StripeEventOutcome as O, common::v1::PageInfo};
        let user = user_of(request.caller.as_ref())?;
        let outcome = match request.outcome() {
            O::Unspecified => None,
            O::Applied => Some("applied"),
            O::Ignored => Some("ignored"),
            O::Stale => Some("stale"),
            O::Failed => Some("failed"),
            O::Duplicate => {
                return Err(BillingError::invalid(
                    "outcome",
                    "events are never stored as duplicates",
                ));
            }
        };
        let asked = Page::parse(request.page.as_ref()).map_err(|_| {
            BillingError::invalid("page.page_token", "not a token from a previous page")
        })?;
        let event_type = Some(request.event_type.as_str()).filter(|t| !t.is_empty());
        let page = self
            .service
            .stripe_events(user, outcome, event_type, asked)
            .await?;
        let events: Vec<_> = page.events.into_iter().map(super::stored_event).collect();
        let next = if page.more {
            asked.following()
        } else {
            String::new()
        };
        Ok(onramp_proto::billing::v1::ListStripeEventsResponse {
            events,
            page: Some(PageInfo {
                next_page_token: next,
            }),
        })
    }
}

impl BillingApi {
    pub(super) async fn sync_prices(
        &self,
        request: onramp_proto::billing::v1::SyncStripePricesRequest,
    ) -> Result<onramp_proto::billing::v1::SyncStripePricesResponse, BillingError> {
        let user = user_of(request.caller.as_ref())?;
        let synced = self
            .service
            .sync_stripe_prices(user, request.dry_run)
            .await?;
        Ok(onramp_proto::billing::v1::SyncStripePricesResponse {
            updated_plan_codes: synced.updated,
            unmatched_plan_codes: synced.unmatched,
            version: synced.version,
        })
    }
}
