//! `kill -9` of billing and then of tenant-provisioning while billing's outbox relays subscription
//! changes to tenancy (activation, past due, cancellation), fed by a webhook storm (the [`Storm`]).
//! Afterwards every outbox row was delivered — none parked, none left waiting — tenancy applied each
//! exactly once (its `billing_events` rows are the delivered rows, one each), and every workspace is
//! in the state its subscription's latest event says.

use std::{collections::BTreeSet, time::Duration};

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{
    fleet::{Fleet, PEER, bounded},
    poll::eventually,
    stripe::new_webhook_secret,
    webhook_storm::{Storm, lifecycle},
};

const WORKSPACES: i64 = 8;

/// Waits (bounded) until billing's outbox has no row left to deliver; returns the delivered ids.
async fn wait_relayed(billing: &PgPool) -> BTreeSet<Uuid> {
    eventually(Duration::from_secs(40), async || {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from outbox where delivered_at is null and parked_at is null",
        )
        .fetch_one(billing)
        .await
        .expect("waiting rows");
        (waiting == 0)
            .then_some(())
            .ok_or(format!("{waiting} outbox rows were never delivered"))
    })
    .await;
    let parked: Vec<(Uuid, Option<String>)> =
        sqlx::query_as("select id, last_error from outbox where parked_at is not null")
            .fetch_all(billing)
            .await
            .expect("parked");
    assert!(parked.is_empty(), "outbox rows parked: {parked:?}");
    sqlx::query_scalar("select id from outbox where topic = 'tenancy.apply_billing_event'")
        .fetch_all(billing)
        .await
        .expect("delivered")
        .into_iter()
        .collect()
}

/// Tenancy's state for a subscription status billing mirrors last.
fn tenant_state(subscription_status: &str) -> &'static str {
    match subscription_status {
        "active" => "active",
        "canceled" => "canceled",
        other => panic!("no final status {other} in this storm"),
    }
}

#[tokio::test]
async fn faults_kill9_mid_outbox_relay_delivers_every_row_with_effect_once() {
    bounded(Duration::from_secs(150), async {
        let secret = new_webhook_secret();
        let peer = format!("{PEER}tenant-provisioning");
        let mut fleet = Fleet::services(&[
            ("billing", "STRIPE_WEBHOOK_SECRETS", secret.clone()),
            ("billing", "TENANT_PROVISIONING_SERVICE_ADDR", peer),
            ("billing", "OUTBOX_POLL_INTERVAL", "50ms".to_owned()),
            ("billing", "OUTBOX_MAX_BACKOFF", "500ms".to_owned()),
        ])
        .await;
        fleet.start_gateway("5s", &[]).await;
        let (_, token) = fleet.user().await;
        let mut finals = Vec::new();
        let mut bodies = Vec::new();
        for n in 0..WORKSPACES {
            let tenant = fleet.workspace(&token).await;
            let (_, events) = lifecycle(n, &tenant);
            let last: Value = serde_json::from_str(events.last().expect("events")).expect("json");
            let status = last["data"]["object"]["status"].as_str().expect("status");
            finals.push((tenant, tenant_state(status)));
            bodies.extend(events);
        }

        let storm = Storm::start(&fleet, &secret, bodies);
        storm.wait_acknowledged(1.0 / 3.0).await;
        fleet.kill9("billing").await;
        fleet.restart("billing").await;
        storm.wait_acknowledged(2.0 / 3.0).await;
        fleet.kill9("tenant-provisioning").await;
        fleet.restart("tenant-provisioning").await;
        storm.finish().await;

        let billing = fleet.pool("billing").await;
        let delivered = wait_relayed(&billing).await;
        billing.close().await;
        assert!(!delivered.is_empty(), "the storm made outbox rows to relay");
        let tenancy = fleet.pool("tenant-provisioning").await;
        let applied: Vec<Uuid> = sqlx::query_scalar("select event_id from billing_events")
            .fetch_all(&tenancy)
            .await
            .expect("applied events");
        let applied_set: BTreeSet<Uuid> = applied.iter().copied().collect();
        assert_eq!(
            applied_set, delivered,
            "tenancy applied exactly the delivered rows"
        );
        assert_eq!(applied.len(), applied_set.len(), "each once");
        for (tenant, state) in &finals {
            let now: String = sqlx::query_scalar("select state from tenants where id = $1")
                .bind(Uuid::parse_str(tenant).expect("uuid"))
                .fetch_one(&tenancy)
                .await
                .expect("tenant");
            assert_eq!(
                now, *state,
                "{tenant} follows its subscription's latest event"
            );
        }
        tenancy.close().await;
    })
    .await;
}
