//! Every database connection of identity and tenant-provisioning terminated (`pg_terminate_backend`,
//! what a Postgres failover or an idle-connection reaper does) three times while signups and
//! provisioning flow: the pools recover on their own — no service restarts, requests succeed again
//! afterwards — no request hangs past its deadline, and no workspace is left half-made.

use std::time::Duration;

use sqlx::PgPool;

use crate::support::{
    fault_load::{Load, MIXED},
    fleet::{Fleet, assert_whole_workspaces, bounded},
};

const TERMINATIONS: usize = 3;
/// The gateway's `REQUEST_BUDGET` here.
const BUDGET: Duration = Duration::from_secs(2);
/// How far past the budget an answer may come before it counts as hanging past its deadline.
const SLACK: Duration = Duration::from_millis(500);
/// Far past the budget: a request still open by then is hanging, not slow.
const HANG: Duration = Duration::from_secs(15);

/// Terminates every backend of `databases` but the caller's own; how many it ended.
async fn terminate_backends(admin: &PgPool, databases: &[String]) -> i64 {
    sqlx::query_scalar(
        "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity
          where datname = any($1) and pid <> pg_backend_pid()) terminated",
    )
    .bind(databases)
    .fetch_one(admin)
    .await
    .expect("terminate")
}

#[tokio::test]
async fn faults_terminated_backends_mid_load_recover_without_a_restart() {
    bounded(Duration::from_secs(120), async {
        let mut fleet = Fleet::services(&[]).await;
        fleet.start_gateway("2s", &[]).await;
        let (_, token) = fleet.user().await;
        let databases = vec![
            fleet.database("identity").to_owned(),
            fleet.database("tenant-provisioning").to_owned(),
        ];
        let admin = fleet.pool("billing").await;

        let load = Load::start(&fleet, &token, &MIXED, HANG);
        let mut terminated = 0;
        for _ in 0..TERMINATIONS {
            load.wait_for_more(5).await;
            terminated += terminate_backends(&admin, &databases).await;
        }
        // The same processes serve again: their pools replaced the dead connections.
        load.wait_for_more(10).await;
        let seen = load.stop().await;
        eprintln!("terminated {terminated} backends");
        assert!(terminated > 0, "there were connections to terminate");
        // A dead connection is a reason to retry, never a bug (500) or a refusal (422): every
        // failed answer is a 503 or 504 with Retry-After (the client's retry then succeeds).
        seen.assert_retryable_within(BUDGET + SLACK);
        for service in ["identity", "tenant-provisioning"] {
            assert!(
                fleet.is_running(service),
                "{service} recovered without a restart"
            );
        }
        assert_whole_workspaces(&fleet).await;
        admin.close().await;
    })
    .await;
}
