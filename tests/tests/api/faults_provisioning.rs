//! `kill -9` of tenant-provisioning while clients provision workspaces concurrently (the
//! [`Storm`]: each key sent twice at once and retried): after the restart every key has exactly one
//! whole workspace and no client was answered `500` for the crash.

use std::time::Duration;

use crate::support::{
    fleet::{Fleet, bounded},
    provisioning_storm::Storm,
};

#[tokio::test]
async fn faults_kill9_of_tenancy_mid_provisioning_leaves_one_whole_workspace_per_key() {
    bounded(Duration::from_secs(150), async {
        let mut fleet = Fleet::services(&[]).await;
        fleet.start_gateway("5s", &[]).await;
        let storm = Storm::start(&fleet).await;
        storm.wait_a_third().await;
        fleet.kill9("tenant-provisioning").await;
        fleet.restart("tenant-provisioning").await;
        storm.finish(&fleet).await;
    })
    .await;
}
