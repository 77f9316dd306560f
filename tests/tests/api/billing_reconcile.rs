//! Reconciliation in the whole stack: an entitlement billing holds for a tenant that tenancy never
//! committed (provisioning failed after EnsureEntitlement) is reported as an orphan; a workspace
//! provisioned through the gateway is not.

use onramp_proto::{
    billing::v1::{EnsureEntitlementRequest, ReconcileWithStripeRequest},
    common::v1::Caller,
};
use uuid::Uuid;

use crate::support::{
    billing::{OPERATOR, billing_rpc, provision, stripe_world},
    stripe::{StripeFake, new_webhook_secret},
};

#[tokio::test]
async fn reconciliation_reports_entitlements_whose_tenant_tenancy_never_committed() {
    let fake = StripeFake::start().await;
    let world = stripe_world(&fake, &new_webhook_secret()).await;
    let owner = world.verified_user().await;
    let real = provision(&world, &owner, "Real Co", "pro").await["tenant"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut billing = billing_rpc(&world).await;
    // What tenancy does first when provisioning; here tenancy never commits the tenant.
    let orphan = Uuid::new_v4().to_string();
    billing
        .ensure_entitlement(EnsureEntitlementRequest {
            tenant_id: orphan.clone(),
            plan_id: "pro".to_owned(),
            owner_user_id: owner.id.clone(),
        })
        .await
        .expect("entitled");

    let report = billing
        .reconcile_with_stripe(ReconcileWithStripeRequest {
            caller: Some(Caller {
                user_id: OPERATOR.to_owned(),
                ..Caller::default()
            }),
            dry_run: true,
            tenant_id: String::new(),
        })
        .await
        .expect("reconciled")
        .into_inner();
    assert_eq!(report.orphan_tenant_ids, [orphan], "not {real}");
}
