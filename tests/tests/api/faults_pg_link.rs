//! The network between identity and its Postgres slowed, black-holed and cut, through
//! [`FaultProxy`], while clients sign up: every answer comes within the gateway's request budget
//! plus 100 ms, a failed answer is a `503`/`504` with `Retry-After` — never a `500` — readiness
//! reports the black hole, and the same identity process serves again once the network heals.

use std::{
    net::{SocketAddr, ToSocketAddrs as _},
    time::Duration,
};

use crate::support::{
    fault_load::{Load, Workload},
    fault_proxy::{Fault, FaultProxy},
    fleet::{Fleet, bounded},
    postgres,
};

/// The gateway's `REQUEST_BUDGET` here.
const BUDGET: Duration = Duration::from_secs(2);
/// How far past the budget an answer may come (issue 17's bound for a deadline that holds).
const SLACK: Duration = Duration::from_millis(100);
/// The client gives up on a request this long after sending it (a hang, reported as such).
const HANG: Duration = Duration::from_secs(15);

/// Where the tests' Postgres server listens.
fn postgres_addr() -> SocketAddr {
    let url = url::Url::parse(&postgres().database_url("postgres")).expect("url");
    (url.host_str().expect("host"), url.port().unwrap_or(5432))
        .to_socket_addrs()
        .expect("resolve")
        .next()
        .expect("an address")
}

#[tokio::test]
async fn faults_slow_stalled_and_cut_database_links_answer_retryably_within_the_budget() {
    bounded(Duration::from_secs(150), async {
        let proxy = FaultProxy::start(postgres_addr()).await;
        let mut fleet = Fleet::services_via(postgres(), &[], &[("identity", proxy.addr())]).await;
        fleet.start_gateway("2s", &[]).await;
        let load = Load::start(&fleet, "", &[Workload::Signup, Workload::Signup], HANG);
        load.wait_for_more(3).await;

        // A slow link is only slower.
        proxy.set(Fault::Delay(Duration::from_millis(20)));
        load.wait_for_more(3).await;

        // A black-holed database: deadlines answer for it, and readiness says so.
        proxy.set(Fault::Stall);
        load.wait_for_failures(3).await;
        fleet.wait_readiness(false, Duration::from_secs(15)).await;
        proxy.set(Fault::None);
        fleet.wait_readiness(true, Duration::from_secs(30)).await;
        load.wait_for_more(3).await;

        // Every connection cut, and new ones closed as they open.
        proxy.set(Fault::Cut);
        load.wait_for_failures(3).await;
        proxy.set(Fault::None);
        load.wait_for_more(5).await;
        let seen = load.stop().await;

        seen.assert_retryable_within(BUDGET + SLACK);
        assert!(
            fleet.is_running("identity"),
            "identity served again without a restart"
        );
        drop(fleet);
        drop(proxy);
    })
    .await;
}
