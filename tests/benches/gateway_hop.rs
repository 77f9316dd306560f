//! The gateway hop: a cheap authenticated `GET /v1/users/me` through the gateway (JWT check with cached
//! keys and remembered verified tokens — the bench's few users reuse theirs, so a token's first,
//! fully verified request is not what it measures — one RPC to identity) next to the same RPC (`GetCurrentUser`) called directly over gRPC, in one
//! run, with identity and the gateway as separate processes so each one's CPU per request is read
//! from `/proc`. The gateway's own CPU per proxied request is the figure to watch (goal: ≤ 100 µs).
//!
//! `cargo bench -p onramp-e2e --bench gateway_hop` (Postgres at `DATABASE_URL` or 127.0.0.1:5432; it
//! builds the `billing`, `gateway` and `identity` release binaries first unless `BENCH_NO_BUILD` is set). Env:
//! `BENCH_SECONDS` (default 5), `BENCH_CONCURRENCY` (default 16).
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::ensure;
use onramp_proto::{
    common::v1::Caller,
    identity::v1::{GetCurrentUserRequest, identity_service_client::IdentityServiceClient},
};
use sqlx::PgPool;
use support::{CpuBaseline, Process, env_u64};

/// What one side of the comparison did: requests, their rate and each process's CPU per request.
#[derive(Debug)]
struct Run {
    rate: f64,
    gateway_us: f64,
    identity_us: f64,
    postgres_us: f64,
}

/// Runs `worker(client, counter)` on `clients` tasks while reading the processes' CPU; each worker
/// counts its requests on the counter.
async fn measure<F, Fut>(
    (gateway, identity): (&Process, &Process),
    admin: &PgPool,
    database: &str,
    clients: u64,
    worker: F,
) -> anyhow::Result<Run>
where
    F: Fn(usize, Arc<AtomicU64>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let backends = support::backends(admin, database, None).await?;
    let postgres = CpuBaseline::read(&backends);
    let (gateway_cpu, identity_cpu) = (gateway.cpu()?, identity.cpu()?);
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..usize::try_from(clients)?)
        .map(|client| tokio::spawn(worker(client, done.clone())))
        .collect();
    for handle in handles {
        handle.await??;
    }
    let elapsed = start.elapsed();
    let requests = done.load(Ordering::Relaxed);
    let per = |cpu: f64| cpu * 1e6 / requests.max(1) as f64;
    let after = support::backends(admin, database, None).await?;
    Ok(Run {
        rate: requests as f64 / elapsed.as_secs_f64(),
        gateway_us: per(gateway.cpu()? - gateway_cpu),
        identity_us: per(identity.cpu()? - identity_cpu),
        postgres_us: per(postgres.used_since(&after)),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_u64("BENCH_SECONDS", 5);
    let clients = env_u64("BENCH_CONCURRENCY", 16);
    let server_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    support::build_binaries()?;
    let name = support::create_database(&server_url, "onramp_bench_hop").await?;
    let outcome = run(&server_url, &name, seconds, clients).await;
    support::drop_database(&server_url, &name).await?;
    outcome
}

async fn run(server_url: &str, name: &str, seconds: u64, clients: u64) -> anyhow::Result<()> {
    let database_url = support::database_url(server_url, name)?;
    let identity_addr = support::free_addr()?;
    let identity = Process::spawn(
        "identity",
        &support::service_env(identity_addr, database_url.clone(), 10),
    )?;
    support::wait_serving(identity_addr).await?;
    let gateway_addr = support::free_addr()?;
    let gateway = Process::spawn(
        "gateway",
        &support::gateway_env(gateway_addr, Some(identity_addr), None)?,
    )?;
    let base = format!("http://{gateway_addr}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .map_or(true, |r| r.status() != 200)
    {
        ensure!(
            started.elapsed() < Duration::from_secs(30),
            "the gateway never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut users = Vec::new();
    for _ in 0..clients.min(8) {
        users.push(support::users::signed_in_user(&http, &base).await?);
    }
    let users = Arc::new(users);
    let admin = PgPool::connect(&database_url).await?;
    let duration = Duration::from_secs(seconds);
    let channel = onramp_kit::grpc::client::channel(&format!("http://{identity_addr}"))?;
    let identity_client = IdentityServiceClient::new(channel);

    // Through the gateway: the bearer token checked, one GetCurrentUser to identity, JSON out.
    let through_gateway = |client: usize, done: Arc<AtomicU64>| {
        let (http, base, users) = (http.clone(), base.clone(), users.clone());
        async move {
            let token = &users[client % users.len()].0;
            let url = format!("{base}/v1/users/me");
            let start = Instant::now();
            while start.elapsed() < duration {
                let response = http.get(&url).bearer_auth(token).send().await?;
                let status = response.status();
                response.bytes().await?;
                ensure!(status == 200, "GET /v1/users/me answered {status}");
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }
    };
    // The same RPC straight to identity, as the gateway sends it (the caller's id, no HTTP, no JWT).
    let direct = |client: usize, done: Arc<AtomicU64>| {
        let (mut identity, users) = (identity_client.clone(), users.clone());
        async move {
            let user_id = users[client % users.len()].1.clone();
            let start = Instant::now();
            while start.elapsed() < duration {
                identity
                    .get_current_user(GetCurrentUserRequest {
                        caller: Some(Caller {
                            user_id: user_id.clone(),
                            ..Caller::default()
                        }),
                    })
                    .await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }
    };
    // A first run through the gateway warms both up (connections, the key cache, prepared statements).
    let processes = (&gateway, &identity);
    measure(processes, &admin, name, clients, through_gateway).await?;
    let via_gateway = measure(processes, &admin, name, clients, through_gateway).await?;
    let via_grpc = measure(processes, &admin, name, clients, direct).await?;
    admin.close().await;

    println!(
        "GET /v1/users/me through the gateway vs identity's GetCurrentUser over gRPC, {clients} clients, {seconds}s each"
    );
    for (label, run) in [
        ("through the gateway", &via_gateway),
        ("gRPC directly", &via_grpc),
    ] {
        println!(
            "  {label:<20} {:>8.0} req/s | CPU µs per request: gateway {:>6.1} | identity {:>6.1} | postgres {:>6.1}",
            run.rate, run.gateway_us, run.identity_us, run.postgres_us
        );
    }
    println!(
        "  the hop: gateway {:.1} µs CPU per proxied request (goal ≤ 100); ratio of rates {:.2}",
        via_gateway.gateway_us,
        via_gateway.rate / via_grpc.rate
    );
    Ok(())
}
