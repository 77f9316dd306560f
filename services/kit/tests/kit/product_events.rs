//! The product-event table every service copies into its migrations, and the relay's pruning.

use std::time::Duration;

use onramp_kit::{
    product_events::{TABLE_SQL, relay::ProductEventRelay, settings::ProductEventSettings},
    testing::count,
};
use tokio_util::sync::CancellationToken;

use crate::support::TestDb;

/// Each service owns its schema, so each migration holds its own copy of the table; this keeps the
/// copies from drifting apart from the one the relay and the funnel are written against.
#[test]
fn every_service_migrates_the_kit_table() {
    let migrations = [
        (
            "identity",
            include_str!("../../../identity/migrations/20261203100000_product_events.sql"),
        ),
        (
            "tenant-provisioning",
            include_str!(
                "../../../tenant-provisioning/migrations/20261203100000_product_events.sql"
            ),
        ),
        (
            "billing",
            include_str!("../../../billing/migrations/20261203100000_product_events.sql"),
        ),
        (
            "onboarding",
            include_str!("../../../onboarding/migrations/20261203100000_product_events.sql"),
        ),
    ];
    for (service, migration) in migrations {
        assert!(
            migration.starts_with(TABLE_SQL),
            "{service}'s product_events migration differs from onramp_kit::product_events::TABLE_SQL"
        );
    }
}

/// A database with the product-event table holding, by name: relayed long ago, relayed long ago
/// but once-keyed, relayed yesterday, and never relayed (the capture API is down) long ago.
async fn aged_events() -> TestDb {
    let db = TestDb::empty().await;
    sqlx::raw_sql(TABLE_SQL)
        .execute(&db.pool)
        .await
        .expect("product_events table");
    sqlx::raw_sql(
        "insert into product_events (id, name, distinct_id, occurred_at, sent_at, once_key) values
         (gen_random_uuid(), 'old_sent', 'u', now() - interval '40 days', now() - interval '40 days', null),
         (gen_random_uuid(), 'old_once', 'u', now() - interval '40 days', now() - interval '40 days', 'old_once:u'),
         (gen_random_uuid(), 'recent_sent', 'u', now() - interval '1 day', now() - interval '1 day', null),
         (gen_random_uuid(), 'old_unsent', 'u', now() - interval '40 days', null, null)",
    )
    .execute(&db.pool)
    .await
    .expect("events");
    db
}

/// Settings that relay to nowhere (nothing here is pending and due) with a 30-day retention.
fn settings() -> ProductEventSettings {
    ProductEventSettings {
        poll_interval: Duration::from_millis(20),
        ..ProductEventSettings::posthog("http://127.0.0.1:9", "phc_test")
    }
}

async fn names_left(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar("select name from product_events order by name")
        .fetch_all(&db.pool)
        .await
        .expect("names")
}

#[tokio::test]
async fn pruning_deletes_only_relayed_events_past_the_retention() {
    let db = aged_events().await;
    let relay = ProductEventRelay::configured(db.pool.clone(), &settings(), "kit")
        .expect("relay")
        .expect("configured");
    assert_eq!(relay.prune_once().await.expect("prune"), 1);
    assert_eq!(
        names_left(&db).await,
        ["old_once", "old_unsent", "recent_sent"]
    );
    assert_eq!(relay.prune_once().await.expect("prune again"), 0);
    db.drop().await;
}

#[tokio::test]
async fn the_running_relay_prunes_with_the_configured_retention() {
    let db = aged_events().await;
    let half_a_day = ProductEventSettings {
        retention: Duration::from_secs(12 * 3600),
        ..settings()
    };
    // The unsent row is due; the capture API is unreachable, so the relay retries it and leaves it.
    let relay = ProductEventRelay::configured(db.pool.clone(), &half_a_day, "kit")
        .expect("relay")
        .expect("configured");
    let stop = CancellationToken::new();
    let running = tokio::spawn(relay.run(stop.clone()));
    let sql = "select count(*) from product_events where name in ('old_sent', 'recent_sent')";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while count(&db.pool, sql).await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "never pruned");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    running.await.expect("the relay stops");
    assert_eq!(names_left(&db).await, ["old_once", "old_unsent"]);
    db.drop().await;
}
