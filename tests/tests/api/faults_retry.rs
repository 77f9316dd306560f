//! Retry amplification over a peer that fails half its calls with `UNAVAILABLE`: `GET /v1/status`
//! reads every service's `Describe`, which the gateway retries (it only reads), with onboarding
//! behind a [`FlakyPeer`]. The retry budget must keep the sick peer's load within 1.1× of what
//! clients asked for — plus the budget's floor of one retry per second, which lets a quiet gateway
//! still retry — and every request the budget does not save is a `503` with `Retry-After`.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use futures::{StreamExt as _, stream};

use crate::support::{
    flaky_peer::FlakyPeer,
    fleet::{Fleet, bounded},
};

const REQUESTS: u64 = 400;
const CONCURRENCY: usize = 8;
/// Retries may add this share of the calls (the budget's `retry_percent`).
const RETRY_SHARE: f64 = 0.1;
/// The budget's floor: retries allowed per window whatever the traffic (1/s over 10 s).
const FLOOR_PER_WINDOW: f64 = 10.0;
/// The window the floor comes back in: nominally 10 s, but under steady traffic tower's ring of ten
/// slots advances two slots per rotation (`expire` zeroes the next slot and skips past it whenever
/// a call lands just over a slot's length), so what was withdrawn expires after ~5 s.
const WINDOW: Duration = Duration::from_secs(5);
/// tower's budget checks and then withdraws, so concurrent requests can each slip one retry past a
/// check another is about to exhaust: at most one per request in flight.
const RACE: f64 = CONCURRENCY as f64;

#[tokio::test]
async fn faults_retries_over_a_half_unavailable_peer_stay_within_the_budget() {
    bounded(Duration::from_secs(120), async {
        let mut fleet = Fleet::services(&[]).await;
        let flaky = FlakyPeer::start(
            fleet.addr("onboarding"),
            "/onramp.common.v1.ServiceInfo/Describe",
        )
        .await;
        fleet
            .start_gateway("5s", &[("onboarding", flaky.addr())])
            .await;
        let before = flaky.calls();
        let start = Instant::now();
        let answers: Vec<(u16, bool)> = stream::iter(0..REQUESTS)
            .map(|_| {
                let request = fleet.http.get(format!("{}/v1/status", fleet.base));
                async move {
                    let response = request.send().await.expect("the gateway answers");
                    (
                        response.status().as_u16(),
                        response.headers().contains_key("retry-after"),
                    )
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let elapsed = start.elapsed();
        let calls = flaky.calls() - before;

        let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
        for (status, _) in &answers {
            *statuses.entry(*status).or_default() += 1;
        }
        #[allow(clippy::cast_precision_loss)] // a few hundred calls
        let amplification = calls as f64 / REQUESTS as f64;
        eprintln!(
            "{REQUESTS} requests in {elapsed:?} made {calls} Describe calls to the flaky peer \
             ({amplification:.3}×); answers: {statuses:?}"
        );
        assert!(
            calls > REQUESTS,
            "the gateway retries UNAVAILABLE reads at all (else this test shows nothing)"
        );
        let windows = elapsed.as_secs_f64() / WINDOW.as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        let allowed =
            REQUESTS as f64 * (1.0 + RETRY_SHARE) + FLOOR_PER_WINDOW * windows.ceil() + RACE;
        #[allow(clippy::cast_precision_loss)]
        let made = calls as f64;
        assert!(
            made <= allowed,
            "the sick peer got {calls} calls for {REQUESTS} requests ({amplification:.3}×), over \
             the budget's {allowed}"
        );
        assert!(
            statuses.contains_key(&200),
            "the budget saved some requests"
        );
        for (status, retry_after) in &answers {
            assert!(
                *status == 200 || (*status == 503 && *retry_after),
                "a request the budget did not save is a 503 with Retry-After: {statuses:?}"
            );
        }
        drop(fleet);
    })
    .await;
}
