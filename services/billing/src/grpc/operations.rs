//! Operator RPCs around Stripe: reconciliation.

use onramp_proto::billing::v1::{
    Drift as ProtoDrift, DriftAction, ReconcileWithStripeRequest, ReconcileWithStripeResponse,
};

use super::{BillingApi, tenant_id, timestamp};
use crate::error::BillingError;

impl BillingApi {
    pub(super) async fn reconcile(
        &self,
        request: ReconcileWithStripeRequest,
    ) -> Result<ReconcileWithStripeResponse, BillingError> {
        self.operator(request.caller.as_ref())?;
        let only = if request.tenant_id.is_empty() {
            None
        } else {
            Some(tenant_id(&request.tenant_id, "tenant_id")?)
        };
        let report = self.reconciler.run(request.dry_run, only).await?;
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
            orphan_tenant_ids: Vec::new(),
        })
    }
}
