//! Webhook ingest through the gateway, measured side by side with the Postgres ceiling for the same
//! transaction (pgbench, same database, same run): events/s acknowledged and applied, the ratio, and
//! p50/p99 acknowledgement latency. The corpus has reordered events and duplicate deliveries.
//!
//! Run: `cargo bench -p onramp-billing --bench webhook_ingest` (needs Postgres at DATABASE_URL or
//! 127.0.0.1:5432 and `pgbench` on PATH). Env: BENCH_SUBSCRIPTIONS (default 200), BENCH_CONCURRENCY
//! (default 16), BENCH_PGBENCH_SECONDS (default 10).
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::{
    net::{Ipv4Addr, SocketAddr},
    time::{Duration, Instant},
};

use futures::StreamExt as _;
use onramp_billing::{Application, Config};
use onramp_kit::{config::SecretString, db, service_config::ServiceConfig};
use serde_json::json;
use sqlx::{PgPool, postgres::PgConnectOptions};
use stripe_webhook::Webhook;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A deterministic shuffle (xorshift), so runs are comparable.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = usize::try_from(seed % (i as u64 + 1)).unwrap_or(0);
        items.swap(i, j);
    }
}

fn event(
    id: &str,
    kind: &str,
    created: i64,
    subscription: &str,
    status: &str,
    tenant: Uuid,
) -> String {
    json!({"id": id, "object": "event", "type": kind, "created": created,
        "data": {"object": {"id": subscription, "object": "subscription", "customer": "cus_bench",
            "status": status, "metadata": {"tenant_id": tenant.to_string()},
            "items": {"data": [{"price": {"id": "price_bench"}, "quantity": 1}]}}}})
    .to_string()
}

const PGBENCH_SCRIPT: &str = r"
\set n random(1, 2000000000)
insert into stripe_deliveries (id, event_id, event_type, headers, payload) values (gen_random_uuid(), 'evt_pg' || :n, 'customer.subscription.updated', '{}', '\x00');
begin;
insert into stripe_events (event_id, event_type, created, outcome) values ('evt_pg' || :n, 'customer.subscription.updated', now(), 'applied') on conflict do nothing;
select pg_advisory_xact_lock(hashtextextended('sub_pg' || :n, 0));
select status from subscriptions where stripe_subscription_id = 'sub_pg' || :n;
insert into subscriptions (stripe_subscription_id, status, last_event_created, last_event_id) values ('sub_pg' || :n, 'active', now(), 'evt_pg' || :n) on conflict (stripe_subscription_id) do update set status = excluded.status, last_event_created = excluded.last_event_created;
select pg_advisory_xact_lock(hashtextextended('tenant:' || :n, 0));
select stripe_subscription_id, status, last_event_created from subscriptions where tenant_id = (select gen_random_uuid());
select state from entitlements where tenant_id = (select gen_random_uuid()) for update;
insert into entitlements (tenant_id, state, source, version) values (gen_random_uuid(), 'active', 'stripe_subscription', 1);
insert into outbox (id, topic, payload) values (gen_random_uuid(), 'tenancy.apply_billing_event', '{}');
update stripe_events set outcome = 'applied', applied_at = now() where event_id = 'evt_pg' || :n;
commit;
update stripe_deliveries set outcome = 'applied' where event_id = 'evt_pg' || :n;
";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let subscriptions = env_or("BENCH_SUBSCRIPTIONS", 200);
    let concurrency = env_or("BENCH_CONCURRENCY", 16);
    let pgbench_seconds = env_or("BENCH_PGBENCH_SECONDS", 10);
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let server: PgConnectOptions = url.parse()?;
    let name = format!(
        "onramp_bench_{}",
        &Uuid::new_v4().simple().to_string()[..12]
    );
    db::ensure_database(&server, &name).await?;
    let database_url = format!(
        "postgres://{}@{}:{}/{name}",
        server.get_username(),
        server.get_host(),
        server.get_port()
    );

    let secret = format!("whsec_{}", Uuid::new_v4().simple());
    let local = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let mut base = ServiceConfig::new(local, database_url.clone());
    base.database.database_max_connections = 20;
    base.server.drain_period = Duration::from_millis(50);
    let mut config = Config::new(base);
    config.stripe_webhook_secrets = vec![SecretString::from(secret.clone())];
    let billing = Application::build(config).await?;
    let billing_addr = format!("http://{}", billing.local_addr()?);
    let stop = CancellationToken::new();
    let billing_task = tokio::spawn(billing.run_until_stopped(stop.clone()));
    let gateway = onramp_gateway::Application::build(onramp_gateway::Config::new(
        local,
        std::array::from_fn(|_| billing_addr.clone()),
    ))
    .await?;
    let gateway_url = format!("http://{}/v1/webhooks/stripe", gateway.local_addr()?);
    let gateway_task = tokio::spawn(gateway.run_until_stopped(stop.clone()));
    let pool = PgPool::connect_with(server.clone().database(&name)).await?;
    let http = reqwest::Client::new();
    // Wait until billing has migrated (a signed ping answers 200 only then).
    let start = Instant::now();
    loop {
        let body = json!({"id": "evt_warmup", "object": "event", "type": "ping", "created": 1, "data": {"object": {}}}).to_string();
        let signature = Webhook::generate_test_header(&body, &secret, None);
        let ok = http
            .post(&gateway_url)
            .header("stripe-signature", signature)
            .body(body)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        if ok {
            break;
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(30),
            "billing never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Corpus: five events per subscription, shuffled across the whole run, 20 % delivered twice.
    let lifecycle = [
        ("customer.subscription.created", "incomplete"),
        ("customer.subscription.updated", "active"),
        ("customer.subscription.updated", "past_due"),
        ("customer.subscription.updated", "active"),
        ("customer.subscription.deleted", "canceled"),
    ];
    let mut corpus = Vec::new();
    for s in 0..subscriptions {
        let tenant = Uuid::new_v4();
        let subscription = format!("sub_bench_{s}");
        for (step, (kind, status)) in lifecycle.iter().enumerate() {
            let created = 1_790_000_000 + i64::try_from(step).unwrap_or(0) * 10;
            corpus.push(event(
                &format!("evt_bench_{s}_{step}"),
                kind,
                created,
                &subscription,
                status,
                tenant,
            ));
        }
    }
    let unique = corpus.len();
    let duplicates: Vec<String> = corpus.iter().step_by(5).cloned().collect();
    corpus.extend(duplicates);
    shuffle(&mut corpus, 0x9e37_79b9_7f4a_7c15);

    let started = Instant::now();
    let results: Vec<(Duration, u16)> = futures::stream::iter(corpus.iter().cloned())
        .map(|body| {
            let http = http.clone();
            let url = gateway_url.clone();
            let secret = secret.clone();
            async move {
                let signature = Webhook::generate_test_header(&body, &secret, None);
                let sent = Instant::now();
                let status = http
                    .post(&url)
                    .header("stripe-signature", signature)
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                (sent.elapsed(), status)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let acknowledged = results.iter().filter(|(_, status)| *status == 200).count();
    let applied: i64 =
        sqlx::query_scalar("select count(*) from stripe_events where event_id like 'evt_bench_%'")
            .fetch_one(&pool)
            .await?;
    let wrong: i64 = sqlx::query_scalar(
        "select count(*) from subscriptions where stripe_subscription_id like 'sub_bench_%' and status <> 'canceled'")
        .fetch_one(&pool).await?;
    let mut latencies: Vec<Duration> = results.iter().map(|(latency, _)| *latency).collect();
    latencies.sort();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(index).copied().unwrap_or_default()
    };
    let ingest_rate = acknowledged as f64 / elapsed.as_secs_f64();

    // The ceiling: the same transaction shape straight into Postgres, same database, same concurrency.
    let script = std::env::temp_dir().join(format!("{name}.sql"));
    std::fs::write(&script, PGBENCH_SCRIPT)?;
    let output = std::process::Command::new("pgbench")
        .args([
            "-n",
            "-h",
            server.get_host(),
            "-p",
            &server.get_port().to_string(),
            "-U",
            server.get_username(),
        ])
        .args([
            "-c",
            &concurrency.to_string(),
            "-j",
            "2",
            "-T",
            &pgbench_seconds.to_string(),
        ])
        .arg("-f")
        .arg(&script)
        .arg(&name)
        .output()?;
    std::fs::remove_file(&script).ok();
    let report = String::from_utf8_lossy(&output.stdout);
    let pgbench_tps: f64 = report
        .lines()
        .find(|line| line.starts_with("tps"))
        .and_then(|line| line.split_whitespace().nth(2))
        .and_then(|tps| tps.parse().ok())
        .unwrap_or(0.0);

    println!(
        "webhook ingest through the gateway ({} deliveries: {unique} unique events, {} duplicates, shuffled; concurrency {concurrency})",
        corpus.len(),
        corpus.len() - unique
    );
    println!(
        "  acknowledged 200: {acknowledged}/{}   applied (claimed) events: {applied}/{unique}   subscriptions not at Stripe's final state: {wrong}",
        corpus.len()
    );
    println!("  deliveries/s acknowledged and applied: {ingest_rate:.0}");
    println!(
        "  ack latency p50 {:?}  p99 {:?}",
        percentile(0.50),
        percentile(0.99)
    );
    println!(
        "pgbench, same transaction shape, same database, {pgbench_seconds}s: {pgbench_tps:.0} tps"
    );
    if pgbench_tps > 0.0 {
        println!(
            "ratio ingest / Postgres ceiling: {:.2}",
            ingest_rate / pgbench_tps
        );
    } else {
        println!(
            "pgbench failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pool.close().await;
    stop.cancel();
    gateway_task.await??;
    billing_task.await??;
    db::drop_database(&server, &name).await?;
    Ok(())
}
