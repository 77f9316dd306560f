//! A Stripe-like webhook storm for the `kill -9` tests: every event delivered twice, the whole corpus
//! shuffled (a subscription's updates arrive before its creation), several deliveries in flight at
//! once, each retried until a 2xx; and what Stripe saw.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::support::{
    fleet::Fleet,
    stripe::{Webhooks, event},
    tally::{RETRY_FOR, Tally},
};

const WORKERS: usize = 6;

/// A subscription's life as events: distinct `created` seconds, so the order guard alone decides
/// (a tie would make billing re-read Stripe, which this deployment has no key for).
pub(crate) fn lifecycle(n: i64, tenant: &str) -> (String, Vec<String>) {
    let subscription = format!(
        "sub_fault_{n}_{}",
        &Uuid::new_v4().simple().to_string()[..8]
    );
    let last = if n % 2 == 0 {
        ("customer.subscription.deleted", "canceled")
    } else {
        ("customer.subscription.updated", "active")
    };
    let steps = [
        ("customer.subscription.created", "incomplete"),
        ("customer.subscription.updated", "active"),
        ("customer.subscription.updated", "past_due"),
        last,
    ];
    let events = steps
        .iter()
        .zip(0_i64..)
        .map(|((kind, status), step)| {
            let object = json!({"id": subscription, "object": "subscription",
                "customer": format!("cus_fault_{n}"), "status": status,
                "metadata": {"tenant_id": tenant},
                "items": {"data": [{"price": {"id": "price_fault"}, "quantity": 1}]}});
            event(kind, 1_790_000_000 + n * 100 + step * 10, &object)
        })
        .collect();
    (subscription, events)
}

pub(crate) fn account_event(n: usize) -> String {
    let object = json!({"id": format!("acct_fault_{n}"), "object": "account",
        "details_submitted": true, "charges_enabled": n.is_multiple_of(2), "payouts_enabled": false});
    event("account.updated", 1_790_000_000, &object)
}

pub(crate) fn event_id(body: &str) -> String {
    let value: Value = serde_json::from_str(body).expect("event json");
    value["id"].as_str().expect("event id").to_owned()
}

/// A fixed shuffle (xorshift), so a failure can be replayed in the same order.
pub(crate) fn shuffle<T>(items: &mut [T]) {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = usize::try_from(seed % (i as u64 + 1)).expect("index");
        items.swap(i, j);
    }
}

/// What Stripe saw: statuses (`0`: no answer) and each event's acknowledged outcomes.
#[derive(Default)]
pub(crate) struct Seen {
    pub(crate) tally: Tally,
    pub(crate) outcomes: Mutex<HashMap<String, Vec<String>>>,
    pub(crate) acknowledged: AtomicUsize,
}

/// Delivers `body` until a 2xx, as Stripe retries (bounded); records every answer.
async fn deliver_until_acknowledged(webhooks: &Webhooks, body: &str, seen: &Seen) {
    let start = Instant::now();
    loop {
        let (status, answer) = webhooks.deliver(body).await;
        seen.tally.record("webhook", status);
        if (200..300).contains(&status) {
            let outcome = answer["outcome"].as_str().unwrap_or_default().to_owned();
            seen.outcomes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(event_id(body))
                .or_default()
                .push(outcome);
            seen.acknowledged.fetch_add(1, Ordering::Relaxed);
            return;
        }
        assert!(
            status >= 500,
            "a crash is never Stripe's fault: {status} {answer}"
        );
        assert!(start.elapsed() < RETRY_FOR, "never acknowledged: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The storm's deliveries in flight.
pub(crate) struct Storm {
    /// Every distinct event body.
    pub(crate) bodies: Vec<String>,
    pub(crate) seen: Arc<Seen>,
    total: usize,
    workers: Vec<JoinHandle<()>>,
}

impl Storm {
    /// Starts delivering `bodies` twice each, shuffled, to `fleet`'s webhook endpoint.
    pub(crate) fn start(fleet: &Fleet, secret: &str, bodies: Vec<String>) -> Self {
        let mut deliveries: Vec<String> = bodies.iter().chain(&bodies).cloned().collect();
        shuffle(&mut deliveries);
        let total = deliveries.len();
        let queue = Arc::new(Mutex::new(VecDeque::from(deliveries)));
        let seen = Arc::new(Seen::default());
        let url = format!("{}/v1/webhooks/stripe", fleet.base);
        let workers = (0..WORKERS)
            .map(|_| {
                let (queue, seen) = (queue.clone(), seen.clone());
                let webhooks = Webhooks::new(url.clone(), secret);
                tokio::spawn(async move {
                    loop {
                        let next = queue
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .pop_front();
                        let Some(body) = next else { return };
                        deliver_until_acknowledged(&webhooks, &body, &seen).await;
                    }
                })
            })
            .collect();
        Self {
            bodies,
            seen,
            total,
            workers,
        }
    }

    /// Waits (bounded) until `share` of the deliveries were acknowledged: a moment to strike.
    pub(crate) async fn wait_acknowledged(&self, share: f64) {
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let count = (self.total as f64 * share) as usize;
        let start = Instant::now();
        while self.seen.acknowledged.load(Ordering::Relaxed) < count {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the storm stalled"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits for every delivery to be acknowledged; returns the answers by status, having checked
    /// that every event was acknowledged and none was answered `500`.
    pub(crate) async fn finish(self) -> (Vec<String>, Arc<Seen>) {
        for worker in self.workers {
            worker.await.expect("worker");
        }
        assert_eq!(
            self.seen
                .outcomes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len(),
            self.bodies.len(),
            "every event was acknowledged"
        );
        self.seen.tally.assert_no_500();
        (self.bodies, self.seen)
    }
}
