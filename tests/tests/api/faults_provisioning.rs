//! `kill -9` of tenant-provisioning while clients provision workspaces concurrently (the
//! [`Storm`]: each key sent twice at once and retried): after the restart every key has exactly one
//! whole workspace and no client was answered `500` for the crash.

use crate::support::{fleet::Fleet, provisioning_storm::storm_with_crash};

#[tokio::test]
async fn faults_kill9_of_tenancy_mid_provisioning_leaves_one_whole_workspace_per_key() {
    storm_with_crash(async |fleet: &mut Fleet| {
        fleet.kill9("tenant-provisioning").await;
        fleet.restart("tenant-provisioning").await;
    })
    .await;
}
