//! Signups/s and logins/s through the gateway, next to the argon2id ceiling of this machine at the
//! same parameters, measured in the same run. Each signup and each login costs one argon2id hash, so
//! the ratio says how much of the hashing budget reaches users (the rest is HTTP, gRPC, Postgres).
//!
//! `cargo bench -p onramp-e2e --bench signup_login` (Postgres at `DATABASE_URL` or 127.0.0.1:5432;
//! the bench creates and drops its own databases). `BENCH_REQUESTS` sets the count (default 64).
//!
//! The ceiling hashes with the `argon2` crate directly at OWASP's argon2id parameters, which is what
//! identity uses; the bench checks that against a hash identity stored during the run, so it stops
//! with an error rather than compare against the wrong ceiling if identity's parameters change.

mod support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context as _, ensure};
use argon2::{Algorithm, Argon2, Params, Version};
use futures::{StreamExt as _, stream};
use serde_json::json;
use sqlx::{Connection as _, PgConnection};

const PASSWORD: &str = "correct horse battery staple";

/// OWASP's argon2id recommendation, as identity hashes: 19 MiB of memory, 2 iterations, 1 lane.
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const LANES: u32 = 1;

/// How identity's stored PHC strings begin when they use the parameters above.
fn phc_prefix() -> String {
    format!("$argon2id$v=19$m={MEMORY_KIB},t={ITERATIONS},p={LANES}$")
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

/// Hashes/s with every core hashing at once: the most any number of requests could achieve.
fn argon2_ceiling(total: usize, threads: usize) -> anyhow::Result<f64> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    let start = Instant::now();
    let per_thread = total.div_ceil(threads);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
            std::thread::spawn(move || {
                // A fresh salt per hash, as a signup makes; the cost does not depend on it.
                let mut out = [0u8; 32];
                for _ in 0..per_thread {
                    let salt = uuid::Uuid::new_v4();
                    argon2
                        .hash_password_into(PASSWORD.as_bytes(), salt.as_bytes(), &mut out)
                        .map_err(|e| anyhow::anyhow!("argon2 hash: {e}"))?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for handle in handles {
        handle
            .join()
            .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))??;
    }
    Ok(per_second(per_thread * threads, start.elapsed()))
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

/// Fails unless identity stored its hashes with the parameters the ceiling is measured at.
async fn check_identity_parameters(
    database: sqlx::postgres::PgConnectOptions,
) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(&database).await?;
    let stored: String = sqlx::query_scalar(
        "select password_hash from users where password_hash is not null limit 1",
    )
    .fetch_one(&mut conn)
    .await
    .context("a stored password hash")?;
    ensure!(
        stored.starts_with(&phc_prefix()),
        "identity hashes with other parameters than the ceiling ({}…): update the bench",
        stored.split('$').take(4).collect::<Vec<_>>().join("$")
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let count = support::env_u64("BENCH_REQUESTS", 64) as usize;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let http = reqwest::Client::new();
    let stack = support::in_process::start(support::in_process::options()?, &http).await?;

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
    check_identity_parameters(stack.database("identity")?).await?;
    let ceiling = argon2_ceiling(count, cores)?;
    stack.shutdown_and_drop_databases().await?;

    let report = format!(
        "requests: {count} each, concurrency {concurrency}, cores {cores}\n\
         argon2id ceiling (m={MEMORY_KIB},t={ITERATIONS},p={LANES}, {cores} threads): {ceiling:8.1} hashes/s\n\
         signups through the gateway:                   {signups:8.1} /s  ({:.0}% of ceiling)\n\
         logins through the gateway:                    {logins:8.1} /s  ({:.0}% of ceiling)\n",
        100.0 * signups / ceiling,
        100.0 * logins / ceiling,
    );
    // A bench reports on stderr; stdout stays free for tooling.
    eprint!("{report}");
    Ok(())
}
