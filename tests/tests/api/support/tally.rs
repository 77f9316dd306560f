//! What the fault tests' clients were answered, and the careful client they all are: one logical
//! request sent until it is answered, retried on a 5xx or a transport error (never on a 4xx: a
//! crash is never the client's fault), bounded so a lost request fails the test instead of hanging.

use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use serde_json::Value;

/// How long one logical request may keep retrying before the test fails.
pub(crate) const RETRY_FOR: Duration = Duration::from_secs(60);

/// Answers counted by route and status (`0`: a transport error, no answer).
#[derive(Default)]
pub(crate) struct Tally {
    counts: Mutex<BTreeMap<(&'static str, u16), usize>>,
}

impl Tally {
    pub(crate) fn record(&self, route: &'static str, status: u16) {
        *self
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((route, status))
            .or_default() += 1;
    }

    pub(crate) fn snapshot(&self) -> BTreeMap<(&'static str, u16), usize> {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Prints the answers, and fails if any was a `500`: a crash or a lost connection is a
    /// retryable `503`/`504`, never a bug's answer.
    pub(crate) fn assert_no_500(&self) {
        let statuses = self.snapshot();
        eprintln!("answers by (route, status; 0: transport error): {statuses:?}");
        assert!(
            !statuses.keys().any(|(_, status)| *status == 500),
            "a fault is answered 503/504 (retry), never 500: {statuses:?}"
        );
    }
}

/// Sends `request()` until it is answered `ok`, retrying 5xx and transport errors every 100 ms
/// (bounded by [`RETRY_FOR`]); records every answer under `route`. Returns the answer's JSON (null
/// for an empty or non-JSON body).
pub(crate) async fn until_answered(
    route: &'static str,
    ok: u16,
    tally: &Tally,
    request: impl Fn() -> reqwest::RequestBuilder,
) -> Value {
    let start = Instant::now();
    loop {
        match request().send().await {
            Ok(response) if response.status().as_u16() == ok => {
                tally.record(route, ok);
                return response.json().await.unwrap_or_default();
            }
            Ok(response) => {
                let status = response.status();
                tally.record(route, status.as_u16());
                assert!(
                    status.is_server_error(),
                    "{route}: a crash is never the client's fault: {status} {}",
                    response.text().await.unwrap_or_default()
                );
            }
            Err(_) => tally.record(route, 0),
        }
        assert!(start.elapsed() < RETRY_FOR, "{route} never succeeded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
