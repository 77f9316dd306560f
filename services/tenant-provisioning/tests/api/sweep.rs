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

#[tokio::test]
async fn the_periodic_sweep_forgets_idempotency_keys_past_their_retention_only() {
    let app = TestTenancy::spawn(|config| {
        config.sweep_interval = std::time::Duration::from_millis(50);
        config.idempotency_retention = std::time::Duration::from_secs(24 * 3600);
    })
    .await;
    let owner = new_user();
    let old = tenant_id(&app.provision(&owner, "Old Key").await);
    app.provision(&owner, "Fresh Key").await;
    sqlx::query("update provisioning_requests set created_at = now() - interval '25 hours' where tenant_id = $1::uuid")
        .bind(&old)
        .execute(&app.db)
        .await
        .expect("age the key");
    let started = std::time::Instant::now();
    while app
        .count("select count(*) from provisioning_requests")
        .await
        != 1
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the sweep never purged the old key"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Only the key is forgotten; the workspace stays.
    assert_eq!(app.count("select count(*) from tenants").await, 2);
    app.stop().await;
}
