//! The client side of the payment race: after provisioning (or checkout), poll the tenant's status
//! with growing backoff, honouring the server's `Retry-After`, for about ten seconds, and end with
//! [`Readiness::Ready`] or [`Readiness::Pending`] — never an error, so the app can always show the
//! workspace or a "still confirming your payment" screen and keep polling in the background.
//!
//! The policy is transport-neutral: give it a closure that asks once (HTTP
//! `GET /v1/tenants/{id}/status`, or the gRPC [`GetTenantStatus`](onramp_proto::tenancy::v1) via
//! [`grpc_status`]).

use std::{future::Future, time::Duration};

use onramp_proto::{
    common::v1::Caller,
    tenancy::v1::{GetTenantStatusRequest, tenancy_service_client::TenancyServiceClient},
};
use tokio::time::Instant;
use tonic::transport::Channel;

/// One answer of the status endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// The tenant is usable.
    pub ready: bool,
    /// The server's hint (`Retry-After`, `retry_after_seconds`); never come back sooner.
    pub retry_after: Option<Duration>,
}

/// How the window ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// The tenant became usable, after this many polls.
    Ready { polls: u32 },
    /// Still not usable when the window closed (or the status could not be read).
    Pending { polls: u32 },
}

/// Poll with growing backoff for a bounded window.
#[derive(Debug, Clone, Copy)]
pub struct ReadinessPolicy {
    /// The whole window; default 10 s.
    pub window: Duration,
    /// The first wait; default 250 ms.
    pub initial_delay: Duration,
    /// Each wait is the previous times this; default 2.
    pub multiplier: u32,
    /// Waits never grow past this; default 3 s.
    pub max_delay: Duration,
}

impl Default for ReadinessPolicy {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(10),
            initial_delay: Duration::from_millis(250),
            multiplier: 2,
            max_delay: Duration::from_secs(3),
        }
    }
}

impl ReadinessPolicy {
    /// Polls `ask` until it says ready or the window ends. Errors from `ask` count as "not yet"
    /// (a blip must not turn into an error screen); a wait never ends before the server's
    /// `Retry-After`, and a wait that would end past the window ends the polling instead.
    pub async fn wait_until_ready<F, Fut, E>(&self, mut ask: F) -> Readiness
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Observation, E>>,
        E: std::fmt::Debug,
    {
        let end = Instant::now() + self.window;
        let mut backoff = self.initial_delay;
        let mut polls = 0;
        loop {
            polls += 1;
            let hint = match ask().await {
                Ok(observation) if observation.ready => return Readiness::Ready { polls },
                Ok(observation) => observation.retry_after,
                Err(error) => {
                    tracing::debug!(?error, "status poll failed; treating as not ready yet");
                    None
                }
            };
            let wait = hint.map_or(backoff, |hint| hint.max(backoff));
            if Instant::now() + wait > end {
                return Readiness::Pending { polls };
            }
            tokio::time::sleep(wait).await;
            backoff = (backoff * self.multiplier).min(self.max_delay);
        }
    }
}

/// Asks tenancy's `GetTenantStatus` once, as `caller` (for Rust clients inside the cluster and tests).
pub async fn grpc_status(
    client: &mut TenancyServiceClient<Channel>,
    caller: &Caller,
    tenant_id: &str,
) -> Result<Observation, tonic::Status> {
    let response = client
        .get_tenant_status(GetTenantStatusRequest {
            caller: Some(caller.clone()),
            tenant_id: tenant_id.to_owned(),
        })
        .await?
        .into_inner();
    let status = response.status.unwrap_or_default();
    Ok(Observation {
        ready: status.ready,
        retry_after: (status.retry_after_seconds > 0)
            .then(|| Duration::from_secs(u64::from(status.retry_after_seconds))),
    })
}

#[cfg(test)]
mod tests {
    use std::{cell::Cell, time::Duration};

    use super::*;

    fn pending(after: Option<u64>) -> Result<Observation, &'static str> {
        Ok(Observation {
            ready: false,
            retry_after: after.map(Duration::from_secs),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn ready_on_the_third_poll_is_ready() {
        let calls = Cell::new(0);
        let outcome = ReadinessPolicy::default()
            .wait_until_ready(|| {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move {
                    if n < 3 {
                        pending(None)
                    } else {
                        Ok(Observation {
                            ready: true,
                            retry_after: None,
                        })
                    }
                }
            })
            .await;
        assert_eq!(outcome, Readiness::Ready { polls: 3 });
    }

    #[tokio::test(start_paused = true)]
    async fn never_ready_ends_pending_within_the_window_with_growing_waits() {
        let started = Instant::now();
        let times = std::cell::RefCell::new(Vec::new());
        let outcome = ReadinessPolicy::default()
            .wait_until_ready(|| {
                times.borrow_mut().push(started.elapsed());
                async { pending(None) }
            })
            .await;
        assert!(matches!(outcome, Readiness::Pending { .. }));
        assert!(started.elapsed() <= Duration::from_secs(10));
        let times = times.into_inner();
        let waits: Vec<_> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(waits.windows(2).all(|w| w[1] >= w[0]), "{waits:?}");
        assert!(waits.len() >= 4, "{waits:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_and_errors_are_not_errors() {
        let started = Instant::now();
        let times = std::cell::RefCell::new(Vec::new());
        let outcome = ReadinessPolicy::default()
            .wait_until_ready(|| {
                times.borrow_mut().push(started.elapsed());
                let first = times.borrow().len() == 1;
                async move {
                    if first {
                        pending(Some(4))
                    } else {
                        Err("connection reset")
                    }
                }
            })
            .await;
        assert!(matches!(outcome, Readiness::Pending { .. }));
        let times = times.into_inner();
        assert!(times[1] - times[0] >= Duration::from_secs(4), "{times:?}");
    }
}
