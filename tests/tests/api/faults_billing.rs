//! `kill -9` of billing during a webhook storm as Stripe sends one (the [`Storm`]: every event
//! twice, shuffled, several in flight, retried until a 2xx). Afterwards every acknowledged event is
//! recorded once, its effect (an outbox row) exists once, every subscription shows its latest state,
//! and the crash was answered `503` (retry), never `500`.

use std::{sync::PoisonError, time::Duration};

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{
    fleet::{Fleet, bounded},
    stripe::new_webhook_secret,
    webhook_storm::{Seen, Storm, account_event, event_id, lifecycle},
};

const SUBSCRIPTIONS: i64 = 10;
const ACCOUNTS: usize = 6;

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
            let (subscription, events) = lifecycle(n, &Uuid::new_v4().to_string());
            let last = events.last().expect("events").clone();
            finals.push((subscription, last));
            bodies.extend(events);
        }
        let accounts: Vec<String> = (0..ACCOUNTS).map(account_event).collect();
        bodies.extend(accounts.iter().cloned());
        let storm = Storm::start(&fleet, &secret, bodies);
        storm.wait_acknowledged(1.0 / 3.0).await;
        fleet.kill9("billing").await;
        fleet.restart("billing").await;
        let (_, seen) = storm.finish().await;

        let db = fleet.pool("billing").await;
        let account_ids: Vec<String> = accounts.iter().map(|body| event_id(body)).collect();
        assert_applied_once(&db, &seen, &account_ids).await;
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
    })
    .await;
}
