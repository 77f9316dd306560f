//! `kill -9` of the gateway while clients provision workspaces (the [`Storm`]: each key sent twice
//! at once, retried with the same key on 5xx or a transport error): the gateway holds no state of
//! its own, so once it is back every key has exactly one whole workspace — the calls it had in
//! flight either committed (and the retry gets the stored answer) or did not (and the retry makes
//! it) — nothing is doubled, and no answer was a `500`.

use std::time::Duration;

use crate::support::{
    fleet::{Fleet, bounded},
    provisioning_storm::Storm,
};

#[tokio::test]
async fn faults_kill9_of_the_gateway_mid_provisioning_doubles_nothing() {
    bounded(Duration::from_secs(150), async {
        let mut fleet = Fleet::services(&[]).await;
        fleet.start_gateway("5s", &[]).await;
        let storm = Storm::start(&fleet).await;
        storm.wait_a_third().await;
        fleet.kill9_gateway().await;
        fleet.restart_gateway().await;
        storm.finish(&fleet).await;
    })
    .await;
}
