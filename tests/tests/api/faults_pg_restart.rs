//! Postgres itself restarted (a private cluster this test owns, stopped with `pg_ctl -m fast` as a
//! failover or node drain does, then started again) while signups and provisioning flow: readiness
//! follows the outage (`/readyz` 503 while the database is gone, 200 again after), every answer in
//! between is a retryable `503`/`504` with `Retry-After` — never a `500` — and comes within the
//! request budget, and the same service processes serve again once the database is back: their
//! pools reconnect without a restart. No workspace is left half-made.

use std::time::Duration;

use crate::support::{
    fault_load::{Load, MIXED},
    fleet::{Fleet, assert_whole_workspaces, bounded},
    private_postgres::PrivatePostgres,
};

/// The gateway's `REQUEST_BUDGET` here.
const BUDGET: Duration = Duration::from_secs(2);
/// How far past the budget an answer may come (the gateway's timer, the loopback, a busy CI box):
/// later than this, a request hung past its deadline.
const SLACK: Duration = Duration::from_millis(500);
/// The client gives up on a request this long after sending it (a hang, reported as such).
const HANG: Duration = Duration::from_secs(15);

const SERVICES: [&str; 4] = ["identity", "tenant-provisioning", "billing", "onboarding"];

#[tokio::test]
async fn faults_postgres_restart_mid_load_is_a_retryable_outage_readiness_reports() {
    bounded(Duration::from_secs(150), async {
        let mut cluster = PrivatePostgres::start().await;
        let mut fleet = Fleet::services_on(cluster.server(), &[]).await;
        fleet.start_gateway("2s", &[]).await;
        let (_, token) = fleet.user().await;
        let load = Load::start(&fleet, &token, &MIXED, HANG);
        load.wait_for_more(5).await;

        cluster.stop().await;
        load.wait_for_failures(4).await;
        fleet.wait_readiness(false, Duration::from_secs(15)).await;

        cluster.resume().await;
        fleet.wait_readiness(true, Duration::from_secs(30)).await;
        load.wait_for_more(10).await;
        let seen = load.stop().await;

        assert!(seen.failed() > 0, "the outage was seen by the clients");
        seen.assert_retryable_within(BUDGET + SLACK);
        for service in SERVICES {
            assert!(
                fleet.is_running(service),
                "{service} served again without a restart"
            );
        }
        assert_whole_workspaces(&fleet).await;
        drop(fleet);
    })
    .await;
}
