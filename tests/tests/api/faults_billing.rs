//! `kill -9` of billing during a webhook storm as Stripe sends one: every event delivered twice, the
//! whole corpus shuffled (a subscription's updates arrive before its creation), several deliveries in
//! flight at once, and each retried until a 2xx. Afterwards every acknowledged event is recorded
//! once, its effect (an outbox row) exists once, every subscription shows its latest state, and
//! the crash was answered `503` (retry), never `500`.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{
    fleet::{Fleet, bounded},
    stripe::{Webhooks, event, new_webhook_secret},
};

const SUBSCRIPTIONS: i64 = 10;
const ACCOUNTS: usize = 6;
const WORKERS: usize = 6;
/// How long Stripe keeps retrying one delivery before the test fails.
const RETRY_FOR: Duration = Duration::from_secs(60);

/// A subscription's life as events: distinct `created` seconds, so the order guard alone decides
/// (a tie would make billing re-read Stripe, which this deployment has no key for).
fn lifecycle(n: i64) -> (String, Vec<String>) {
    let subscription = format!(
        "sub_fault_{n}_{}",
        &Uuid::new_v4().simple().to_string()[..8]
    );
    let tenant = Uuid::new_v4().to_string();
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

fn account_event(n: usize) -> String {
    let object = json!({"id": format!("acct_fault_{n}"), "object": "account",
        "details_submitted": true, "charges_enabled": n.is_multiple_of(2), "payouts_enabled": false});
    event("account.updated", 1_790_000_000, &object)
}

fn event_id(body: &str) -> String {
    let value: Value = serde_json::from_str(body).expect("event json");
    value["id"].as_str().expect("event id").to_owned()
}

/// A fixed shuffle (xorshift), so a failure can be replayed in the same order.
fn shuffle<T>(items: &mut [T]) {
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
struct Seen {
    statuses: Mutex<BTreeMap<u16, usize>>,
    outcomes: Mutex<HashMap<String, Vec<String>>>,
    acknowledged: AtomicUsize,
}

/// Delivers `body` until a 2xx, as Stripe retries (bounded); records every answer.
async fn deliver_until_acknowledged(webhooks: &Webhooks, body: &str, seen: &Seen) {
    let start = Instant::now();
    loop {
        let (status, answer) = webhooks.deliver(body).await;
        *seen
            .statuses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(status)
            .or_default() += 1;
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

async fn assert_applied_once(db: &PgPool, seen: &Seen, accounts: &[String]) {
    let outcomes = seen
        .outcomes
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    for (id, answers) in &outcomes {
        let recorded: Vec<String> =
            sqlx::query_scalar("select outcome from stripe_events where event_id = $1")
                .bind(id)
                .fetch_all(db)
                .await
                .expect("claims");
        assert_eq!(recorded.len(), 1, "{id}: acknowledged, so claimed once");
        let applied = answers.iter().filter(|a| *a == "applied").count();
        assert!(applied <= 1, "{id} answered applied {applied} times");
        assert!(
            answers
                .iter()
                .all(|a| ["applied", "duplicate", "stale"].contains(&a.as_str())),
            "{id}: {answers:?}"
        );
    }
    for id in accounts {
        let effects: i64 = sqlx::query_scalar(
            "select count(*) from outbox where topic = 'onboarding.apply_connect_account_update'
               and payload->>'stripe_event_id' = $1",
        )
        .bind(id)
        .fetch_one(db)
        .await
        .expect("effects");
        assert_eq!(
            effects, 1,
            "{id}: its relay to onboarding exists exactly once"
        );
    }
    let doubled: Vec<(String, i64)> = sqlx::query_as(
        "select payload->>'stripe_event_id', count(*) from outbox
          where payload->>'stripe_event_id' is not null group by 1 having count(*) > 1",
    )
    .fetch_all(db)
    .await
    .expect("doubles");
    assert!(doubled.is_empty(), "effects written twice: {doubled:?}");
}

#[tokio::test]
async fn faults_kill9_of_billing_mid_webhook_storm_applies_every_event_once() {
    bounded(Duration::from_secs(150), async {
        let secret = new_webhook_secret();
        let mut fleet =
            Fleet::services(&[("billing", "STRIPE_WEBHOOK_SECRETS", secret.clone())]).await;
        fleet.start_gateway("5s", &[]).await;

        let mut finals = Vec::new();
        let mut bodies = Vec::new();
        for n in 0..SUBSCRIPTIONS {
            let (subscription, events) = lifecycle(n);
            let last = events.last().expect("events").clone();
            finals.push((subscription, last));
            bodies.extend(events);
        }
        let accounts: Vec<String> = (0..ACCOUNTS).map(account_event).collect();
        bodies.extend(accounts.iter().cloned());
        // Every event twice, all reordered.
        let mut deliveries: Vec<String> = bodies.iter().chain(&bodies).cloned().collect();
        shuffle(&mut deliveries);
        let total = deliveries.len();
        let queue = Arc::new(Mutex::new(VecDeque::from(deliveries)));

        let seen = Arc::new(Seen::default());
        let url = format!("{}/v1/webhooks/stripe", fleet.base);
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let (queue, seen) = (queue.clone(), seen.clone());
                let webhooks = Webhooks::new(url.clone(), &secret);
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
        let start = Instant::now();
        while seen.acknowledged.load(Ordering::Relaxed) < total / 3 {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the storm stalled"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        fleet.kill9("billing").await;
        fleet.restart("billing").await;
        for worker in workers {
            worker.await.expect("worker");
        }
        let statuses = seen
            .statuses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        eprintln!("answers by status: {statuses:?}");

        let db = fleet.pool("billing").await;
        let account_ids: Vec<String> = accounts.iter().map(|body| event_id(body)).collect();
        assert_applied_once(&db, &seen, &account_ids).await;
        assert_eq!(
            seen.outcomes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len(),
            bodies.len(),
            "every event was acknowledged"
        );
        for (subscription, last) in &finals {
            let last: Value = serde_json::from_str(last).expect("event");
            let (status, version): (String, String) = sqlx::query_as(
                "select status, last_event_id from subscriptions where stripe_subscription_id = $1",
            )
            .bind(subscription)
            .fetch_one(&db)
            .await
            .expect("the subscription is mirrored");
            assert_eq!(
                (status.as_str(), version.as_str()),
                (
                    last["data"]["object"]["status"].as_str().expect("status"),
                    last["id"].as_str().expect("id")
                ),
                "{subscription} ends as Stripe's latest event says"
            );
        }
        db.close().await;
        assert!(
            !statuses.contains_key(&500),
            "a crashed billing is a retryable 503 to Stripe, never a 500: {statuses:?}"
        );
    })
    .await;
}
