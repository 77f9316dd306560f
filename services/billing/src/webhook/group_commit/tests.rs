//! A group against real Postgres: one bad delivery among good ones fails alone.

use onramp_kit::testing::{TestDatabase, count};
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::*;

fn subscription_event(id: &str, subscription: &str, status: &str) -> Vec<u8> {
    json!({"id": id, "object": "event", "type": "customer.subscription.updated",
        "created": 1_790_000_000, "livemode": false,
        "data": {"object": {"id": subscription, "object": "subscription", "customer": "cus_group",
            "status": status, "cancel_at_period_end": false,
            "metadata": {"tenant_id": Uuid::new_v4().to_string()},
            "items": {"object": "list", "data": [{"price": {"id": "price_group"}, "quantity": 1}]}}}})
    .to_string()
    .into_bytes()
}

fn ignored_event(id: &str) -> Vec<u8> {
    json!({"id": id, "object": "event", "type": "customer.created", "created": 1_790_000_000,
        "data": {"object": {"id": "cus_group", "object": "customer"}}})
    .to_string()
    .into_bytes()
}

type Answer = oneshot::Receiver<(StripeEvent, Result<Outcome, BillingError>)>;

fn job(payload: Vec<u8>) -> (Job, Answer) {
    let (reply, answer) = oneshot::channel();
    let job = Job {
        event: StripeEvent::parse(&payload).expect("an event"),
        delivery: Delivery {
            payload,
            signature: String::new(),
            headers: Default::default(),
            connect: false,
        },
        span: tracing::Span::none(),
        reply,
    };
    (job, answer)
}

/// Writes `payloads` as one group on `held` (else a connection from the pool); each one's answer,
/// in order, and the connection the writer keeps for its next group.
async fn write_group_on(
    pool: &PgPool,
    held: Option<Held>,
    payloads: Vec<Vec<u8>>,
) -> (Vec<Result<Outcome, BillingError>>, Option<Held>) {
    let (jobs, answers): (Vec<Job>, Vec<Answer>) = payloads.into_iter().map(job).unzip();
    let writer = Writer {
        pool: pool.clone(),
        stripe: None,
    };
    let kept = write_group(writer, held, jobs).await;
    let mut results = Vec::new();
    for answer in answers {
        results.push(answer.await.expect("every delivery is answered").1);
    }
    (results, kept)
}

/// Writes `payloads` as one group; each one's answer, in order.
async fn write_as_one_group(
    pool: &PgPool,
    payloads: Vec<Vec<u8>>,
) -> Vec<Result<Outcome, BillingError>> {
    write_group_on(pool, None, payloads).await.0
}

async fn backend_pid(conn: &mut Held) -> i32 {
    sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut **conn)
        .await
        .expect("pid")
}

async fn database() -> (TestDatabase, PgPool) {
    let database = TestDatabase::create("billing").await;
    let pool = database.connect().await;
    crate::startup::MIGRATOR.run(&pool).await.expect("migrate");
    (database, pool)
}

#[tokio::test]
async fn a_group_applies_each_delivery_once_and_a_duplicate_inside_it_changes_nothing() {
    let (database, pool) = database().await;
    let results = write_as_one_group(
        &pool,
        vec![
            subscription_event("evt_g1", "sub_g1", "active"),
            ignored_event("evt_g2"),
            subscription_event("evt_g1", "sub_g1", "active"),
            subscription_event("evt_g3", "sub_g3", "trialing"),
        ],
    )
    .await;
    let outcomes: Vec<Outcome> = results
        .into_iter()
        .map(|result| result.expect("written"))
        .collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Applied,
            Outcome::Ignored,
            Outcome::Duplicate,
            Outcome::Applied
        ]
    );
    assert_eq!(count(&pool, "select count(*) from stripe_events").await, 3);
    assert_eq!(
        count(
            &pool,
            "select count(*) from stripe_deliveries where outcome <> 'failed'"
        )
        .await,
        4
    );
    assert_eq!(count(&pool, "select count(*) from subscriptions").await, 2);
    pool.close().await;
    database.remove().await;
}

#[tokio::test]
async fn one_bad_delivery_in_a_group_fails_alone_and_its_neighbours_are_applied() {
    let (database, pool) = database().await;
    let results = write_as_one_group(
        &pool,
        vec![
            subscription_event("evt_n1", "sub_n1", "active"),
            // Not a status Stripe has: the handler refuses the object, after its neighbour's writes.
            subscription_event("evt_bad", "sub_bad", "no_such_status"),
            ignored_event("evt_n2"),
            subscription_event("evt_n3", "sub_n3", "active"),
        ],
    )
    .await;
    let [first, bad, second, third] = <[_; 4]>::try_from(results).expect("four answers");
    assert_eq!(first.expect("applied"), Outcome::Applied);
    assert!(
        matches!(bad, Err(BillingError::InvalidArgument { .. })),
        "{bad:?}"
    );
    assert_eq!(second.expect("ignored"), Outcome::Ignored);
    assert_eq!(third.expect("applied"), Outcome::Applied);

    let claimed: Vec<String> =
        sqlx::query_scalar("select event_id from stripe_events order by event_id")
            .fetch_all(&pool)
            .await
            .expect("claims");
    assert_eq!(claimed, ["evt_n1", "evt_n2", "evt_n3"]);
    let mirrored: Vec<String> = sqlx::query_scalar(
        "select stripe_subscription_id from subscriptions order by stripe_subscription_id",
    )
    .fetch_all(&pool)
    .await
    .expect("mirror");
    assert_eq!(mirrored, ["sub_n1", "sub_n3"]);
    // Each delivery is logged once: the group's rolled-back rows left nothing behind.
    let logged: Vec<(String, String, Option<String>)> =
        sqlx::query_as("select event_id, outcome, error from stripe_deliveries order by event_id")
            .fetch_all(&pool)
            .await
            .expect("log");
    let logged: Vec<(&str, &str, bool)> = logged
        .iter()
        .map(|(id, outcome, error)| (id.as_str(), outcome.as_str(), error.is_some()))
        .collect();
    assert_eq!(
        logged,
        [
            ("evt_bad", "failed", true),
            ("evt_n1", "applied", false),
            ("evt_n2", "ignored", false),
            ("evt_n3", "applied", false),
        ]
    );
    pool.close().await;
    database.remove().await;
}

#[tokio::test]
async fn a_writer_keeps_its_connection_after_a_written_group_and_hands_it_back_after_a_failed_one()
{
    let (database, pool) = database().await;
    let (results, kept) = write_group_on(
        &pool,
        None,
        vec![
            subscription_event("evt_k1", "sub_k1", "active"),
            ignored_event("evt_k2"),
        ],
    )
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let mut kept = kept.expect("a written group keeps its connection");
    let pid = backend_pid(&mut kept).await;

    let (results, again) = write_group_on(
        &pool,
        Some(kept),
        vec![subscription_event("evt_k3", "sub_k3", "trialing")],
    )
    .await;
    assert_eq!(results.len(), 1);
    assert_eq!(
        results.into_iter().next().map(|r| r.ok()),
        Some(Some(Outcome::Applied))
    );
    let mut again = again.expect("kept again");
    assert_eq!(backend_pid(&mut again).await, pid, "the same connection");

    let (results, after_failure) = write_group_on(
        &pool,
        Some(again),
        vec![
            subscription_event("evt_k4", "sub_k4", "no_such_status"),
            subscription_event("evt_k5", "sub_k5", "active"),
        ],
    )
    .await;
    assert!(results[0].is_err() && results[1].is_ok(), "{results:?}");
    assert!(
        after_failure.is_none(),
        "a failed group hands its connection back"
    );
    pool.close().await;
    database.remove().await;
}

#[tokio::test]
async fn a_group_on_a_held_connection_that_died_is_written_alone_on_fresh_ones() {
    let (database, pool) = database().await;
    let mut held = pool.acquire().await.expect("a connection");
    let pid = backend_pid(&mut held).await;
    let terminated: bool = sqlx::query_scalar("select pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&pool)
        .await
        .expect("terminate");
    assert!(terminated);

    let (results, kept) = write_group_on(
        &pool,
        Some(held),
        vec![
            subscription_event("evt_d1", "sub_d1", "active"),
            ignored_event("evt_d2"),
            subscription_event("evt_d3", "sub_d3", "active"),
        ],
    )
    .await;
    let outcomes: Vec<Outcome> = results
        .into_iter()
        .map(|result| result.expect("written alone"))
        .collect();
    assert_eq!(
        outcomes,
        [Outcome::Applied, Outcome::Ignored, Outcome::Applied]
    );
    assert!(kept.is_none());
    assert_eq!(count(&pool, "select count(*) from stripe_events").await, 3);
    assert_eq!(
        count(&pool, "select count(*) from stripe_deliveries").await,
        3
    );
    pool.close().await;
    database.remove().await;
}
