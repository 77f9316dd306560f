//! Waiting, bounded, for something the stack does in the background (an outbox relayed, a mail
//! sent, a service ready): the one polling loop the tests share.

use std::time::{Duration, Instant};

/// How often [`eventually`] tries again: well under any wait a test makes, well over a round trip.
const EVERY: Duration = Duration::from_millis(50);

/// Calls `attempt` every 50 ms until it answers `Ok`, and returns that value. An `Err` says what
/// has not happened yet; the last one is the failure once `within` has passed.
pub(crate) async fn eventually<T>(
    within: Duration,
    mut attempt: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let start = Instant::now();
    loop {
        match attempt().await {
            Ok(value) => return value,
            Err(not_yet) => assert!(start.elapsed() < within, "{not_yet}"),
        }
        tokio::time::sleep(EVERY).await;
    }
}
