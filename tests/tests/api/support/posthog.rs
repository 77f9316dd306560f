//! A stand-in for a PostHog-compatible capture API: `POST /batch/` recorded raw, one receipt per
//! event per request, never deduplicated, so a test sees every resend. It can hold its answers
//! (record the batch, then never respond), which is how a test catches a relay mid-batch.

use std::{
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use serde_json::Value;
use tokio::sync::Notify;

/// The project key tests configure and the stand-in expects.
pub(crate) const POSTHOG_KEY: &str = "phc_onramp_e2e";

/// One event as the capture API received it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Receipt {
    pub(crate) uuid: String,
    pub(crate) event: String,
    pub(crate) distinct_id: String,
    pub(crate) properties: Value,
    /// The batch's `api_key`.
    pub(crate) api_key: String,
}

#[derive(Default)]
struct Inbox {
    receipts: Mutex<Vec<Receipt>>,
    hold: AtomicBool,
    refuse: AtomicBool,
    arrived: Notify,
}

/// The running stand-in (stops with the test's runtime).
pub(crate) struct PostHogStandIn {
    /// `http://127.0.0.1:<port>`: what `POSTHOG_HOST` is set to.
    pub(crate) host: String,
    inbox: Arc<Inbox>,
}

async fn batch(
    State(inbox): State<Arc<Inbox>>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let api_key = body["api_key"].as_str().unwrap_or_default().to_owned();
    let text = |event: &Value, key: &str| event[key].as_str().unwrap_or_default().to_owned();
    let received: Vec<Receipt> = body["batch"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|event| Receipt {
            uuid: text(event, "uuid"),
            event: text(event, "event"),
            distinct_id: text(event, "distinct_id"),
            properties: event["properties"].clone(),
            api_key: api_key.clone(),
        })
        .collect();
    inbox
        .receipts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .extend(received);
    inbox.arrived.notify_waiters();
    if inbox.hold.load(Ordering::SeqCst) {
        // Recorded, never answered: the sender cannot know the batch arrived.
        std::future::pending::<()>().await;
    }
    if inbox.refuse.load(Ordering::SeqCst) {
        // Recorded, then refused: the sender must retry the same events.
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": 0 })),
        );
    }
    (StatusCode::OK, Json(serde_json::json!({ "status": 1 })))
}

impl PostHogStandIn {
    pub(crate) async fn start() -> Self {
        let inbox = Arc::new(Inbox::default());
        let app = Router::new()
            .route("/batch/", post(batch))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let host = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { host, inbox }
    }

    /// Every receipt so far, in arrival order (resends included).
    pub(crate) fn receipts(&self) -> Vec<Receipt> {
        self.inbox
            .receipts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// While on, batches are recorded and left unanswered.
    pub(crate) fn hold_answers(&self, hold: bool) {
        self.inbox.hold.store(hold, Ordering::SeqCst);
    }

    /// While on, batches are recorded and answered 503.
    pub(crate) fn refuse_batches(&self, refuse: bool) {
        self.inbox.refuse.store(refuse, Ordering::SeqCst);
    }

    /// Waits (bounded) until at least `count` receipts arrived.
    pub(crate) async fn wait_for(&self, count: usize) -> Vec<Receipt> {
        let start = Instant::now();
        loop {
            let arrived = self.inbox.arrived.notified();
            let receipts = self.receipts();
            if receipts.len() >= count {
                return receipts;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the capture API got {} of {count} events: {receipts:#?}",
                receipts.len()
            );
            let _ = tokio::time::timeout(Duration::from_millis(200), arrived).await;
        }
    }
}
