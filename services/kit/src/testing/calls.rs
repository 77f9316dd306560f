//! Calling a service under test as the gateway does, and reading its answers as the gateway will.

use std::{
    fmt::Debug,
    future::Future,
    time::{Duration, Instant},
};

use onramp_proto::common::v1::Caller;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{ApiError, Code};

/// A signed-in caller, as the gateway builds it (a fresh request id per call).
pub fn caller(user: &str) -> Option<Caller> {
    Some(Caller {
        user_id: user.to_owned(),
        client_ip: String::new(),
        user_agent: "tests".to_owned(),
        request_id: Uuid::new_v4().to_string(),
    })
}

/// The table code and field of a failed call, as the gateway will decode them.
pub fn error_of<T: Debug>(result: Result<T, tonic::Status>) -> ApiError {
    ApiError::from_status(&result.expect_err("the call should fail"))
}

/// Asserts a failed call's code (and field, when given); returns the decoded error.
pub fn assert_error<T: Debug>(
    result: Result<T, tonic::Status>,
    code: Code,
    field: Option<&str>,
) -> ApiError {
    let error = error_of(result);
    assert_eq!(error.code, code, "{error:?}");
    if let Some(field) = field {
        assert_eq!(error.field.as_deref(), Some(field), "{error:?}");
    }
    error
}

/// Polls `check` until it holds; panics naming `what` after 10 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A service's `run_until_stopped` on a task of its own, until [`RunningService::stop`].
#[derive(Debug)]
pub struct RunningService {
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningService {
    /// Spawns `run` (a `BoundService::run_until_stopped`) with the token [`Self::stop`] fires.
    pub fn spawn<Fut>(run: impl FnOnce(CancellationToken) -> Fut) -> Self
    where
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(stop.clone()));
        Self { stop, task }
    }

    /// Stops the service and waits for it; a failed or panicked run fails the test.
    pub async fn stop(self) {
        self.stop.cancel();
        self.task.await.expect("join").expect("clean stop");
    }
}
