//! Retrying idempotent unary calls: jittered exponential backoff, a shared retry budget, and never
//! past the caller's deadline.
//!
//! Only `UNAVAILABLE` is retried: it is the one status that promises the request was not processed.
//! Use this only for calls that are safe to repeat.

use std::{future::Future, sync::Arc, time::Duration};

use backon::{BackoffBuilder, ExponentialBuilder};
use tonic::{Code, Status};
use tower::retry::budget::{Budget, TpsBudget};

use crate::deadline::Deadline;

/// Backoff and budget for retries; clone it to share one budget among callers.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    backoff: ExponentialBuilder,
    budget: Arc<TpsBudget>,
}

impl Default for RetryPolicy {
    /// 3 retries from 25 ms up to 1 s; retries may add at most 10% load (plus a floor of 1/s, so a
    /// quiet caller still retries): a peer failing half its calls sees at most 1.1× the calls
    /// (issue 17). Give each peer its own policy: a shared budget lets calls to healthy peers pay
    /// for retries to a sick one.
    fn default() -> Self {
        Self::new(
            Duration::from_millis(25),
            Duration::from_secs(1),
            3,
            // 0.0999, not 0.1: tower charges a retry `(1 / percent) as isize` deposits, and
            // 1 / 0.1f32 truncates to 9 — an 11% budget. This one charges 10.
            TpsBudget::new(Duration::from_secs(10), 1, 0.0999),
        )
    }
}

impl RetryPolicy {
    /// A policy with `max_retries` jittered exponential delays between `min_delay` and `max_delay`.
    pub fn new(
        min_delay: Duration,
        max_delay: Duration,
        max_retries: usize,
        budget: TpsBudget,
    ) -> Self {
        let backoff = ExponentialBuilder::new()
            .with_jitter()
            .with_min_delay(min_delay)
            .with_max_delay(max_delay)
            .with_max_times(max_retries);
        Self {
            backoff,
            budget: Arc::new(budget),
        }
    }

    /// Whether a status means the server did not process the request.
    pub fn is_retryable(status: &Status) -> bool {
        status.code() == Code::Unavailable
    }

    /// Runs `attempt` until it succeeds, fails with a non-retryable status, the retries or the
    /// budget run out, or the next delay would end past the current [`Deadline`].
    pub async fn call_idempotent<T, F, Fut>(&self, mut attempt: F) -> Result<T, Status>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        self.budget.deposit();
        let mut delays = self.backoff.build();
        loop {
            let status = match attempt().await {
                Ok(value) => return Ok(value),
                Err(status) if !Self::is_retryable(&status) => return Err(status),
                Err(status) => status,
            };
            let Some(delay) = delays.next() else {
                return Err(status);
            };
            let fits_deadline = Deadline::current().is_none_or(|d| d.remaining() > delay);
            if !fits_deadline || !self.budget.withdraw() {
                return Err(status);
            }
            tracing::debug!(
                delay_ms = delay.as_millis() as u64,
                "retrying after UNAVAILABLE"
            );
            tokio::time::sleep(delay).await;
        }
    }
}
