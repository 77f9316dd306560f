//! Closed-loop traffic for the fault tests: a few clients, each sending one request at a time (a
//! signup with a fresh email, or a provisioning with a fresh `Idempotency-Key`) until stopped, and
//! recording every answer's status, `Retry-After` and how long it took.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::json;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::support::fleet::Fleet;

/// What a client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Workload {
    /// `POST /v1/auth/signup` (identity's database).
    Signup,
    /// `POST /v1/tenants` (tenancy's database).
    Provision,
}

const WORKLOADS: [Workload; 2] = [Workload::Signup, Workload::Provision];

/// Two clients of each workload.
pub(crate) const MIXED: [Workload; 4] = [
    Workload::Signup,
    Workload::Signup,
    Workload::Provision,
    Workload::Provision,
];

/// Everything the clients were answered.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Answers by workload and status (`0`: a transport error).
    pub(crate) statuses: BTreeMap<(Workload, u16), u32>,
    /// Failed answers (neither 2xx nor a transport error) without a `Retry-After`.
    pub(crate) failures_without_retry_after: Vec<(Workload, u16)>,
    /// The longest any answer took, per workload.
    pub(crate) slowest: BTreeMap<Workload, Duration>,
}

impl Seen {
    /// Answers other than 2xx, 503 and 504: a transport failure is a reason to retry, never a bug
    /// (500) or a refusal (4xx).
    pub(crate) fn unretryable(&self) -> Vec<((Workload, u16), u32)> {
        self.statuses
            .iter()
            .filter(|((_, status), _)| !(200..300).contains(status) && !matches!(status, 503 | 504))
            .map(|(key, count)| (*key, *count))
            .collect()
    }

    /// Every failed answer was retryable — a `503`/`504` (never a `500` or a 4xx) with
    /// `Retry-After` — and every answer came within `deadline` (the budget plus a slack).
    pub(crate) fn assert_retryable_within(&self, deadline: Duration) {
        let wrong = self.unretryable();
        assert!(
            wrong.is_empty(),
            "a lost database answers 503/504, never anything else: {wrong:?}"
        );
        assert!(
            self.failures_without_retry_after.is_empty(),
            "every failed answer says when to retry: {:?}",
            self.failures_without_retry_after
        );
        for (workload, took) in &self.slowest {
            assert!(
                *took <= deadline,
                "{workload:?}: an answer took {took:?}, past its deadline {deadline:?}"
            );
        }
    }

    /// How many answers failed (not 2xx).
    pub(crate) fn failed(&self) -> u32 {
        self.statuses
            .iter()
            .filter(|((_, status), _)| !(200..300).contains(status))
            .map(|(_, count)| count)
            .sum()
    }
}

#[derive(Default)]
struct Shared {
    seen: Mutex<Seen>,
    ok: [AtomicU32; 2],
    failed: AtomicU32,
    stop: AtomicBool,
}

/// Clients running until [`Load::stop`].
pub(crate) struct Load {
    shared: Arc<Shared>,
    workloads: Vec<Workload>,
    clients: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts one client per entry of `workloads` against `fleet`'s gateway; provisioning uses
    /// `token`. `hang` bounds each request far past the gateway's budget: a request still open then
    /// fails the test.
    pub(crate) fn start(
        fleet: &Fleet,
        token: &str,
        workloads: &[Workload],
        hang: Duration,
    ) -> Self {
        let shared = Arc::new(Shared::default());
        let clients = workloads
            .iter()
            .map(|workload| {
                let client = Client {
                    workload: *workload,
                    http: fleet.http.clone(),
                    base: fleet.base.clone(),
                    token: token.to_owned(),
                    hang,
                    shared: shared.clone(),
                };
                tokio::spawn(client.run())
            })
            .collect();
        Self {
            shared,
            workloads: workloads.to_vec(),
            clients,
        }
    }

    fn ok(&self) -> Vec<u32> {
        self.shared
            .ok
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect()
    }

    /// Waits (bounded) until every workload has `more` successes beyond what it had.
    pub(crate) async fn wait_for_more(&self, more: u32) {
        let from = self.ok();
        let start = Instant::now();
        while self
            .ok()
            .iter()
            .zip(&from)
            .zip(WORKLOADS)
            .any(|((now, before), workload)| {
                self.workloads.contains(&workload) && *now < before + more
            })
        {
            assert!(
                start.elapsed() < Duration::from_secs(40),
                "requests stopped succeeding: {:?}",
                self.snapshot().statuses
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits (bounded) until `more` requests failed beyond those that had.
    pub(crate) async fn wait_for_failures(&self, more: u32) {
        let from = self.shared.failed.load(Ordering::Relaxed);
        let start = Instant::now();
        while self.shared.failed.load(Ordering::Relaxed) < from + more {
            assert!(
                start.elapsed() < Duration::from_secs(40),
                "no request failed during the fault: {:?}",
                self.snapshot().statuses
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn snapshot(&self) -> Seen {
        let seen = self
            .shared
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Seen {
            statuses: seen.statuses.clone(),
            failures_without_retry_after: seen.failures_without_retry_after.clone(),
            slowest: seen.slowest.clone(),
        }
    }

    /// Stops the clients (each finishes its request) and returns what they saw.
    pub(crate) async fn stop(mut self) -> Seen {
        self.shared.stop.store(true, Ordering::Relaxed);
        for client in std::mem::take(&mut self.clients) {
            client.await.expect("client");
        }
        let seen = self.snapshot();
        eprintln!("answers by (workload, status): {:?}", seen.statuses);
        eprintln!("slowest answers: {:?}", seen.slowest);
        seen
    }
}

struct Client {
    workload: Workload,
    http: reqwest::Client,
    base: String,
    token: String,
    hang: Duration,
    shared: Arc<Shared>,
}

impl Client {
    async fn run(self) {
        while !self.shared.stop.load(Ordering::Relaxed) {
            let request = match self.workload {
                Workload::Signup => self
                    .http
                    .post(format!("{}/v1/auth/signup", self.base))
                    .json(&json!({
                        "email": format!("load-{}@example.com", Uuid::new_v4().simple()),
                        "password": "correct horse battery staple", "display_name": "Fault",
                    })),
                Workload::Provision => self
                    .http
                    .post(format!("{}/v1/tenants", self.base))
                    .bearer_auth(&self.token)
                    .header("idempotency-key", Uuid::new_v4().to_string())
                    .json(&json!({ "name": "Fault load" })),
            };
            let start = Instant::now();
            let (status, retry_after) = match request.timeout(self.hang).send().await {
                Ok(response) => (
                    response.status().as_u16(),
                    response.headers().contains_key("retry-after"),
                ),
                Err(error) => {
                    assert!(!error.is_timeout(), "a request hung past its deadline");
                    (0, false)
                }
            };
            self.record(status, retry_after, start.elapsed());
            if !(200..300).contains(&status) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    fn record(&self, status: u16, retry_after: bool, took: Duration) {
        let index = WORKLOADS
            .iter()
            .position(|w| *w == self.workload)
            .expect("workload");
        if (200..300).contains(&status) {
            self.shared.ok[index].fetch_add(1, Ordering::Relaxed);
        } else {
            self.shared.failed.fetch_add(1, Ordering::Relaxed);
        }
        let mut seen = self
            .shared
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *seen.statuses.entry((self.workload, status)).or_default() += 1;
        if status != 0 && !(200..300).contains(&status) && !retry_after {
            seen.failures_without_retry_after
                .push((self.workload, status));
        }
        let slowest = seen.slowest.entry(self.workload).or_default();
        *slowest = (*slowest).max(took);
    }
}
