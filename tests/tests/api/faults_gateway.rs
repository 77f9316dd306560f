//! `kill -9` of the gateway while clients provision workspaces (the [`Storm`]: each key sent twice
//! at once, retried with the same key on 5xx or a transport error): the gateway holds no state of
//! its own, so once it is back every key has exactly one whole workspace — the calls it had in
//! flight either committed (and the retry gets the stored answer) or did not (and the retry makes
//! it) — nothing is doubled, and no answer was a `500`.

use crate::support::{fleet::Fleet, provisioning_storm::storm_with_crash};

#[tokio::test]
async fn faults_kill9_of_the_gateway_mid_provisioning_doubles_nothing() {
    storm_with_crash(async |fleet: &mut Fleet| {
        fleet.kill9_gateway().await;
        fleet.restart_gateway().await;
    })
    .await;
}
