//! The retry helper: what it retries, when it stops, and that it honours the shared budget.

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use onramp_kit::{Deadline, retry::RetryPolicy};
use tonic::Status;
use tower::retry::budget::TpsBudget;

fn generous_budget() -> TpsBudget {
    TpsBudget::new(Duration::from_secs(10), 100, 1.0)
}

#[tokio::test(start_paused = true)]
async fn unavailable_is_retried_until_it_succeeds() {
    let policy = RetryPolicy::new(
        Duration::from_millis(10),
        Duration::from_millis(50),
        5,
        generous_budget(),
    );
    let attempts = AtomicU32::new(0);
    let outcome = policy
        .call_idempotent(|| async {
            match attempts.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(Status::unavailable("not processed")),
                _ => Ok("done"),
            }
        })
        .await;
    assert_eq!(outcome.map_err(|s| s.code()), Ok("done"));
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn invalid_argument_is_not_retried() {
    let policy = RetryPolicy::new(
        Duration::from_millis(10),
        Duration::from_millis(50),
        5,
        generous_budget(),
    );
    let attempts = AtomicU32::new(0);
    let outcome: Result<(), Status> = policy
        .call_idempotent(|| async {
            attempts.fetch_add(1, Ordering::SeqCst);
            Err(Status::invalid_argument("email: not an address"))
        })
        .await;
    assert_eq!(
        outcome.map_err(|s| s.code()),
        Err(tonic::Code::InvalidArgument)
    );
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn retries_stop_before_the_deadline() {
    let policy = RetryPolicy::new(
        Duration::from_millis(100),
        Duration::from_millis(100),
        50,
        generous_budget(),
    );
    let attempts = AtomicU32::new(0);
    let deadline = Deadline::after(Duration::from_millis(350));
    let outcome: Result<(), Status> = deadline
        .scope(policy.call_idempotent(|| async {
            attempts.fetch_add(1, Ordering::SeqCst);
            Err(Status::unavailable("not processed"))
        }))
        .await;
    assert_eq!(outcome.map_err(|s| s.code()), Err(tonic::Code::Unavailable));
    assert!(
        !deadline.is_expired(),
        "the helper slept past the caller's deadline"
    );
    let made = attempts.load(Ordering::SeqCst);
    // Delays are 100-200 ms with jitter: at least one retry fits in 350 ms, and never all 50.
    assert!((2..=4).contains(&made), "{made} attempts");
}

#[tokio::test(start_paused = true)]
async fn an_empty_budget_stops_retries() {
    // No deposits count (0%) and a reserve of exactly one retry per second.
    let budget = TpsBudget::new(Duration::from_secs(1), 1, 0.0);
    let policy = RetryPolicy::new(
        Duration::from_millis(1),
        Duration::from_millis(1),
        10,
        budget,
    );
    let attempts = AtomicU32::new(0);
    let outcome: Result<(), Status> = policy
        .call_idempotent(|| async {
            attempts.fetch_add(1, Ordering::SeqCst);
            Err(Status::unavailable("not processed"))
        })
        .await;
    assert_eq!(outcome.map_err(|s| s.code()), Err(tonic::Code::Unavailable));
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        2,
        "one retry from the reserve, then the budget is empty"
    );
}
