//! The sweep report: incomplete starter data and tenants stuck in pending_payment, operators only.

use onramp_kit::Code;
use onramp_proto::tenancy::v1 as pb;

use crate::helpers::{TestTenancy, assert_error, caller, new_user, tenant_id};

#[tokio::test]
async fn the_sweep_reports_incomplete_starter_data_and_stuck_tenants_to_operators_only() {
    let operator = new_user();
    let operators = operator.clone();
    let app = TestTenancy::spawn(move |config| {
        config.standalone_initial_state =
            onramp_tenant_provisioning::StandaloneState::PendingPayment;
        config.operator_user_ids = operators;
    })
    .await;
    let owner = new_user();
    let fresh = tenant_id(&app.provision(&owner, "Fresh").await);
    let old = tenant_id(&app.provision(&owner, "Old").await);
    let mut client = app.client.clone();
    let report = |who: &str| pb::GetSweepReportRequest {
        caller: caller(who),
        pending_payment_older_than_seconds: 3600,
        limit: 0,
    };

    let clean = client
        .get_sweep_report(report(&operator))
        .await
        .expect("report")
        .into_inner();
    assert!(clean.incomplete_starter_data.is_empty());
    assert_eq!(clean.stuck_pending_payment_total, 0);

    sqlx::query(
        "update tenants set state_changed_at = now() - interval '2 hours' where id = $1::uuid",
    )
    .bind(&old)
    .execute(&app.db)
    .await
    .expect("age");
    sqlx::query("delete from starter_items where tenant_id = $1::uuid and key = 'premium'")
        .bind(&fresh)
        .execute(&app.db)
        .await
        .expect("break");
    let found = client
        .get_sweep_report(report(&operator))
        .await
        .expect("report")
        .into_inner();
    assert_eq!(found.incomplete_starter_data.len(), 1);
    assert_eq!(found.incomplete_starter_data[0].tenant_id, fresh);
    assert_eq!(
        found.incomplete_starter_data[0].missing_item_keys,
        ["premium"]
    );
    assert_eq!(found.stuck_pending_payment_total, 1);
    assert_eq!(found.stuck_pending_payment[0].tenant_id, old);
    assert_eq!(found.stuck_pending_payment[0].owner_user_id, owner);

    assert_error(
        client.get_sweep_report(report(&owner)).await,
        Code::PermissionDenied,
        None,
    );
    assert_error(
        client
            .get_sweep_report(pb::GetSweepReportRequest {
                pending_payment_older_than_seconds: 31 * 24 * 3600,
                ..report(&operator)
            })
            .await,
        Code::InvalidArgument,
        Some("pending_payment_older_than_seconds"),
    );
    app.stop().await;
}
