//! Slowed, stalled and cut connections between the gateway and tenant-provisioning, through
//! [`FaultProxy`]: every answer comes within the gateway's request budget (bounded far above it only
//! to catch a hang), a transport failure is a `503` with `Retry-After` (or a `504` when the
//! deadline ran out), never a `500`, and the gateway serves again once the network heals — without
//! a restart of anything.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::{
    fault_proxy::{Fault, FaultProxy},
    fleet::{Fleet, bounded},
    poll::eventually,
};

/// The gateway's `REQUEST_BUDGET` in this test.
const BUDGET: &str = "2s";
/// Far past the budget: an answer later than this is a hang, not slowness.
const HANG: Duration = Duration::from_secs(15);

/// What one `GET /v1/tenants` got: its status and `Retry-After`.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
}

async fn list_tenants(fleet: &Fleet, token: &str) -> Answer {
    get_tenants(fleet.http.clone(), fleet.base.clone(), token.to_owned()).await
}

/// [`list_tenants`] with owned parts, to run as its own task.
async fn get_tenants(http: reqwest::Client, base: String, token: String) -> Answer {
    let response = http
        .get(format!("{base}/v1/tenants"))
        .bearer_auth(token)
        .timeout(HANG)
        .send()
        .await
        .expect("the gateway answers before the hang bound");
    Answer {
        status: response.status(),
        retry_after: response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// A transport failure: `503` + `Retry-After`, or `504` when the deadline ran out — never `500`.
fn assert_retryable(answer: &Answer, fault: &str) {
    match answer.status.as_u16() {
        503 => assert!(
            answer.retry_after.is_some(),
            "{fault}: a 503 tells the client when to retry: {answer:?}"
        ),
        504 => {}
        _ => panic!("{fault}: a transport failure is a 503 or 504, got {answer:?}"),
    }
}

/// Heals the network and waits (bounded) until the gateway serves again.
async fn heal(fleet: &Fleet, proxy: &FaultProxy, token: &str) {
    proxy.set(Fault::None);
    eventually(Duration::from_secs(20), async || {
        let answer = list_tenants(fleet, token).await;
        (answer.status == StatusCode::OK)
            .then_some(())
            .ok_or(format!("the gateway never recovered: {answer:?}"))
    })
    .await;
}

#[tokio::test]
async fn faults_cut_and_stalled_peer_connections_answer_retryably_within_the_budget() {
    bounded(Duration::from_secs(120), async {
        let mut fleet = Fleet::services(&[]).await;
        let proxy = FaultProxy::start(fleet.addr("tenant-provisioning")).await;
        fleet
            .start_gateway(BUDGET, &[("tenant-provisioning", proxy.addr())])
            .await;
        let (_, token) = fleet.user().await;
        assert_eq!(list_tenants(&fleet, &token).await.status, StatusCode::OK);

        // A slow network is only slower.
        proxy.set(Fault::Delay(Duration::from_millis(50)));
        assert_eq!(list_tenants(&fleet, &token).await.status, StatusCode::OK);

        // A black-holed peer: the deadline answers for it.
        proxy.set(Fault::Stall);
        assert_retryable(&list_tenants(&fleet, &token).await, "stalled peer");
        heal(&fleet, &proxy, &token).await;

        // The connection is cut while a call is on it.
        proxy.set(Fault::Stall);
        let before = proxy.held_chunks();
        let in_flight = tokio::spawn(get_tenants(
            fleet.http.clone(),
            fleet.base.clone(),
            token.clone(),
        ));
        let start = Instant::now();
        while proxy.held_chunks() == before {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the call never reached the proxy"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        proxy.set(Fault::Cut);
        assert_retryable(&in_flight.await.expect("request"), "cut mid-call");
        // And stays cut: new connections are closed as they open.
        assert_retryable(&list_tenants(&fleet, &token).await, "cut peer");

        heal(&fleet, &proxy, &token).await;
        drop(proxy);
    })
    .await;
}
