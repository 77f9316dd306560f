//! Signups/s and logins/s through the gateway, next to the argon2id ceiling of this machine at the
//! same parameters, measured in the same run. Each signup and each login costs one argon2id hash, so
//! the ratio says how much of the hashing budget reaches users (the rest is HTTP, gRPC, Postgres).
//!
//! `cargo bench -p onramp-identity --bench signup_login` (Postgres at `DATABASE_URL` or 127.0.0.1:5432;
//! the bench creates and drops its own databases). `BENCH_REQUESTS` sets the count (default 64).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures::{StreamExt as _, stream};
use onramp_stack::{
    RunningStack, StackOptions,
    postgres::{LOCAL_SERVER_URL, PgServer},
};
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

/// Hashes/s with every core hashing at once: the most any number of requests could achieve.
fn argon2_ceiling(total: usize, threads: usize) -> f64 {
    let start = Instant::now();
    let per_thread = total.div_ceil(threads);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..per_thread {
                    onramp_identity::passwords::hash_once_for_benchmark(PASSWORD)
                        .expect("argon2 hash");
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("hashing thread");
    }
    per_second(per_thread * threads, start.elapsed())
}

/// Sends `count` POSTs of `body(i)` to `path`, `concurrency` at a time; requests/s.
async fn drive(
    http: &reqwest::Client,
    url: &str,
    count: usize,
    concurrency: usize,
    body: impl Fn(usize) -> serde_json::Value,
    expect: u16,
) -> f64 {
    let body = Arc::new(body);
    let start = Instant::now();
    stream::iter(0..count)
        .map(|i| {
            let (http, body) = (http.clone(), body.clone());
            async move {
                let response = http.post(url).json(&body(i)).send().await.expect("request");
                assert_eq!(response.status().as_u16(), expect, "unexpected status");
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<()>>()
        .await;
    per_second(count, start.elapsed())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let count: usize = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| LOCAL_SERVER_URL.to_owned());
    let prefix = format!(
        "onramp_bench_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let stack = RunningStack::start(StackOptions::local(PgServer::from_url(&url)?, prefix)).await?;
    let http = reqwest::Client::new();
    let ready = Instant::now();
    while http
        .get(format!("{}/readyz", stack.gateway_url()))
        .send()
        .await
        .map_or(true, |r| r.status() != 200)
    {
        anyhow::ensure!(
            ready.elapsed() < Duration::from_secs(30),
            "stack never ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let concurrency = cores * 4;
    let email = |i: usize| format!("bench-{i}@example.com");
    let signups = drive(
        &http,
        &format!("{}/v1/auth/signup", stack.gateway_url()),
        count,
        concurrency,
        |i| json!({ "email": email(i), "password": PASSWORD, "display_name": "Bench" }),
        202,
    )
    .await;
    let logins = drive(
        &http,
        &format!("{}/v1/auth/login", stack.gateway_url()),
        count,
        concurrency,
        |i| json!({ "email": email(i), "password": PASSWORD }),
        200,
    )
    .await;
    let ceiling = argon2_ceiling(count, cores);
    stack.shutdown_and_drop_databases().await?;

    let report = format!(
        "requests: {count} each, concurrency {concurrency}, cores {cores}\n\
         argon2id ceiling (m=19456,t=2,p=1, {cores} threads): {ceiling:8.1} hashes/s\n\
         signups through the gateway:                   {signups:8.1} /s  ({:.0}% of ceiling)\n\
         logins through the gateway:                    {logins:8.1} /s  ({:.0}% of ceiling)\n",
        100.0 * signups / ceiling,
        100.0 * logins / ceiling,
    );
    // A bench reports on stderr; stdout stays free for tooling.
    eprint!("{report}");
    Ok(())
}
