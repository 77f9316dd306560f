//! Stripe webhook ingest through the gateway, with the gateway and billing as separate processes (the
//! release binaries), so the CPU each one spends per delivery can be read from `/proc` — and the
//! Postgres backends serving billing's database the same way — next to pgbench running the same
//! statements on the same database, in one run.
//!
//! `cargo bench -p onramp-e2e --bench webhook_ingest` (Postgres at `DATABASE_URL` or
//! 127.0.0.1:5432, `pgbench` on PATH; it builds the `billing`, `gateway` and `identity` release
//! binaries first unless `BENCH_NO_BUILD` is set, or runs those in `BENCH_BIN_DIR`). Env:
//! `BENCH_SUBSCRIPTIONS` (default 1000: ten events each, so 10,000 events), `BENCH_CONCURRENCY`
//! (default 16), `BENCH_PGBENCH_SECONDS` (default 10), `BENCH_PGBENCH_SHAPE` (`group`, `single` or
//! `three-commits`: which of billing's transaction shapes pgbench runs, to compare a saved older
//! build with; see `support/ingest_pgbench.rs`).
//!
//! The corpus is Stripe-shaped (API version 2017-08-15): per subscription a customer, a completed
//! Checkout, the subscription's lifecycle (created, active, past due, active, deleted) and its
//! invoices, ten events of eight types; every fifth event is delivered twice and the whole corpus is
//! shuffled, so events arrive out of order and duplicates race their originals. The run checks that
//! every delivery was acknowledged, every event claimed once, and every subscription ended in
//! Stripe's final state (canceled).
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

mod support;

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use futures::StreamExt as _;
use serde_json::json;
use sqlx::PgPool;
use stripe_webhook::Webhook;
use support::{CpuBaseline, Process, env_u64, percentile};
use uuid::Uuid;

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

fn envelope(id: String, kind: &str, created: i64, object: serde_json::Value) -> String {
    json!({"id": id, "object": "event", "api_version": "2017-08-15", "type": kind,
        "created": created, "livemode": false, "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": object}})
    .to_string()
}

/// The ten events of one subscription's life, oldest first.
fn lifecycle(s: usize) -> Vec<String> {
    let tenant = Uuid::new_v4().to_string();
    let (customer, subscription) = (format!("cus_bench_{s}"), format!("sub_bench_{s}"));
    let base = 1_790_000_000 + i64::try_from(s).unwrap_or(0);
    let subscription_object = |status: &str| {
        json!({"id": subscription, "object": "subscription", "customer": customer,
            "status": status, "cancel_at_period_end": false, "current_period_end": base + 2_592_000,
            "metadata": {"tenant_id": tenant},
            "items": {"object": "list", "data": [{"id": format!("si_bench_{s}"), "object": "subscription_item",
                "price": {"id": "price_bench", "object": "price", "unit_amount": 1900, "currency": "usd"},
                "quantity": 1}]}})
    };
    let invoice = |n: usize, paid: bool| {
        json!({"id": format!("in_bench_{s}_{n}"), "object": "invoice", "customer": customer,
            "subscription": subscription, "amount_due": 1900, "currency": "usd", "paid": paid,
            "status": if paid { "paid" } else { "open" }})
    };
    let events: [(&str, serde_json::Value); 10] = [
        (
            "customer.created",
            json!({"id": customer, "object": "customer", "email": null, "metadata": {"tenant_id": tenant}}),
        ),
        (
            "checkout.session.completed",
            json!({"id": format!("cs_bench_{s}"), "object": "checkout.session", "mode": "subscription",
                "customer": customer, "subscription": subscription, "client_reference_id": tenant,
                "payment_status": "paid", "metadata": {"tenant_id": tenant}}),
        ),
        (
            "customer.subscription.created",
            subscription_object("incomplete"),
        ),
        ("invoice.created", invoice(1, false)),
        ("invoice.paid", invoice(1, true)),
        (
            "customer.subscription.updated",
            subscription_object("active"),
        ),
        ("invoice.payment_failed", invoice(2, false)),
        (
            "customer.subscription.updated",
            subscription_object("past_due"),
        ),
        (
            "customer.subscription.updated",
            subscription_object("active"),
        ),
        (
            "customer.subscription.deleted",
            subscription_object("canceled"),
        ),
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(step, (kind, object))| {
            let created = base + i64::try_from(step).unwrap_or(0) * 10;
            envelope(format!("evt_bench_{s}_{step}"), kind, created, object)
        })
        .collect()
}

/// One delivery's result: latency and status.
type Sent = (Duration, u16);

async fn deliver_all(
    http: &reqwest::Client,
    url: &str,
    deliveries: Vec<(String, String)>,
    concurrency: usize,
) -> Vec<Sent> {
    futures::stream::iter(deliveries)
        .map(|(body, signature)| async move {
            let sent = Instant::now();
            let status = match http
                .post(url)
                .header("stripe-signature", signature)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
            {
                Ok(response) => {
                    let status = response.status().as_u16();
                    // Read the body, as Stripe does: the connection is reused only after it.
                    let _ = response.bytes().await;
                    status
                }
                Err(_) => 0,
            };
            (sent.elapsed(), status)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let subscriptions = usize::try_from(env_u64("BENCH_SUBSCRIPTIONS", 1000))?;
    let concurrency = env_u64("BENCH_CONCURRENCY", 16);
    let pgbench_seconds = env_u64("BENCH_PGBENCH_SECONDS", 10);
    let server_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    support::build_binaries()?;

    let name = support::create_database(&server_url, "onramp_bench").await?;
    let outcome = run(
        &server_url,
        &name,
        subscriptions,
        concurrency,
        pgbench_seconds,
    )
    .await;
    support::drop_database(&server_url, &name).await?;
    outcome
}

async fn run(
    server_url: &str,
    name: &str,
    subscriptions: usize,
    concurrency: u64,
    pgbench_seconds: u64,
) -> anyhow::Result<()> {
    let database_url = support::database_url(server_url, name)?;
    let secret = format!("whsec_{}", Uuid::new_v4().simple());
    let billing_addr = support::free_addr()?;
    let mut billing_env = support::service_env(billing_addr, database_url.clone(), 20);
    billing_env.push(("STRIPE_WEBHOOK_SECRETS", secret.clone()));
    let billing = Process::spawn("billing", &billing_env)?;
    support::wait_serving(billing_addr).await?;
    let gateway_addr = support::free_addr()?;
    let gateway = Process::spawn(
        "gateway",
        &support::gateway_env(gateway_addr, None, Some(billing_addr))?,
    )?;
    let url = format!("http://{gateway_addr}/v1/webhooks/stripe");
    let http = reqwest::Client::new();
    let admin = PgPool::connect(&database_url).await?;

    // Warm-up: connections (HTTP, gRPC, the pool's) and prepared statements, with events billing
    // ignores.
    let started = Instant::now();
    loop {
        let body = envelope("evt_warmup".to_owned(), "ping", 1, json!({}));
        let signature = Webhook::generate_test_header(&body, &secret, None);
        let ok = deliver_all(&http, &url, vec![(body, signature)], 1).await;
        if ok.first().is_some_and(|(_, status)| *status == 200) {
            break;
        }
        ensure!(
            started.elapsed() < Duration::from_secs(30),
            "the gateway never reached billing"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let warmup: Vec<(String, String)> = (0..50 * concurrency)
        .map(|i| {
            let body = envelope(format!("evt_warm_{i}"), "ping", 1, json!({}));
            let signature = Webhook::generate_test_header(&body, &secret, None);
            (body, signature)
        })
        .collect();
    deliver_all(&http, &url, warmup, usize::try_from(concurrency)?).await;

    let mut corpus: Vec<String> = (0..subscriptions).flat_map(lifecycle).collect();
    let unique = corpus.len();
    let duplicates: Vec<String> = corpus.iter().step_by(5).cloned().collect();
    corpus.extend(duplicates);
    shuffle(&mut corpus, 0x9e37_79b9_7f4a_7c15);
    // Signed up front, so the driver's own CPU stays small (each stays valid for 300 s).
    let deliveries: Vec<(String, String)> = corpus
        .into_iter()
        .map(|body| {
            let signature = Webhook::generate_test_header(&body, &secret, None);
            (body, signature)
        })
        .collect();
    let total = deliveries.len();

    let pg_before = support::backends(&admin, name, None).await?;
    let postgres_cpu = CpuBaseline::read(&pg_before);
    let (gateway_cpu, billing_cpu) = (gateway.cpu()?, billing.cpu()?);
    let driver_cpu = support::cpu_seconds(std::process::id())?;
    let started = Instant::now();
    let results = deliver_all(&http, &url, deliveries, usize::try_from(concurrency)?).await;
    let elapsed = started.elapsed();
    let driver_cpu = support::cpu_seconds(std::process::id())? - driver_cpu;
    let (gateway_cpu, billing_cpu) = (gateway.cpu()? - gateway_cpu, billing.cpu()? - billing_cpu);
    let pg_after = support::backends(&admin, name, None).await?;
    let postgres_cpu = postgres_cpu.used_since(&pg_after);

    let acknowledged = results.iter().filter(|(_, status)| *status == 200).count();
    let claimed: i64 =
        sqlx::query_scalar("select count(*) from stripe_events where event_id like 'evt_bench_%'")
            .fetch_one(&admin)
            .await?;
    let logged: i64 = sqlx::query_scalar(
        "select count(*) from stripe_deliveries where event_id like 'evt_bench_%'",
    )
    .fetch_one(&admin)
    .await?;
    let wrong: i64 = sqlx::query_scalar(
        "select count(*) from subscriptions where stripe_subscription_id like 'sub_bench_%' and status <> 'canceled'",
    )
    .fetch_one(&admin)
    .await?;
    let mirrored: i64 = sqlx::query_scalar(
        "select count(*) from subscriptions where stripe_subscription_id like 'sub_bench_%'",
    )
    .fetch_one(&admin)
    .await?;
    let mut latencies: Vec<Duration> = results.iter().map(|(latency, _)| *latency).collect();
    latencies.sort();
    let rate = acknowledged as f64 / elapsed.as_secs_f64();
    let per = |cpu: f64| cpu * 1000.0 / total as f64;

    let (shape, script, events_per_tx) = support::ingest_pgbench::script()?;
    let ceiling = support::pgbench(
        &admin,
        name,
        &database_url,
        &script,
        concurrency,
        pgbench_seconds,
    )
    .await
    .context("pgbench")?;
    let events_per_second = ceiling.tps * events_per_tx as f64;
    admin.close().await;
    drop(gateway);
    drop(billing);

    println!(
        "webhook ingest through the gateway: {total} deliveries ({unique} events, {} duplicates, shuffled), concurrency {concurrency}",
        total - unique
    );
    println!(
        "  acknowledged {acknowledged}/{total} | events claimed {claimed}/{unique} | deliveries logged {logged}/{total} | subscriptions {mirrored}/{subscriptions}, not in Stripe's final state: {wrong}"
    );
    println!(
        "  {rate:.0} deliveries/s | p50 {:.2} ms | p99 {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
    );
    println!(
        "  CPU ms per delivery: gateway {:.3} | billing {:.3} | postgres {:.3} ({} backends) | server total {:.3} | (load driver {:.3})",
        per(gateway_cpu),
        per(billing_cpu),
        per(postgres_cpu),
        pg_after.len(),
        per(gateway_cpu + billing_cpu + postgres_cpu),
        per(driver_cpu),
    );
    println!(
        "pgbench, billing's statements for a subscription event ({shape}: {events_per_tx} per transaction), same database, {concurrency} clients, {pgbench_seconds}s: {events_per_second:.0} events/s | postgres CPU {:.3} ms/event | ingest/ceiling {:.2}",
        ceiling.postgres_ms_per_tx / events_per_tx as f64,
        rate / events_per_second,
    );
    ensure!(
        acknowledged == total && claimed == i64::try_from(unique)? && wrong == 0,
        "ingest was not correct (see above)"
    );
    Ok(())
}
