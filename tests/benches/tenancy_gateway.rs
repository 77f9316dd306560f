//! Provisioning through the gateway, next to the Postgres ceiling for the same transaction, measured
//! in one run.
//!
//! `cargo bench -p onramp-e2e --bench tenancy_gateway` (Postgres at `DATABASE_URL` or 127.0.0.1:5432,
//! `pgbench` on PATH; `BENCH_SECONDS`, default 5, `BENCH_CONCURRENCY`, default 8). It starts the whole
//! stack (identity, tenancy, billing, onboarding, gateway) on fresh databases, signs one user per
//! client up and in through the gateway, then drives `POST /v1/tenants` with new keys (provisions/s:
//! the gateway's JWT check, tenancy's transaction and billing's entitlement answer) and with one key
//! per client (replays/s). pgbench then runs tenancy's own SQL — the provisioning transaction for a
//! new key, the one-statement lookup for a replay — on tenancy's database with as many clients for as
//! long. Each rate is printed with its ratio to pgbench's: the share of the database's ceiling the
//! HTTP path reaches. A last line replays over tenancy's gRPC directly, to show how much of the gap
//! is the HTTP hop and the JWT check rather than tenancy.
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

mod support;

use std::{
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use onramp_proto::{
    common::v1::Caller,
    tenancy::v1::{ProvisionTenantRequest, tenancy_service_client::TenancyServiceClient},
};
use serde_json::json;
use support::env_u64;
use uuid::Uuid;

const PROVISION_SQL: &str =
    include_str!("../../services/tenant-provisioning/benches/sql/provision.sql");
const REPLAY_SQL: &str = include_str!("../../services/tenant-provisioning/benches/sql/replay.sql");

/// One `POST /v1/tenants`; an error unless it answered 201.
async fn provision(
    http: &reqwest::Client,
    gateway: &str,
    token: &str,
    key: &str,
) -> anyhow::Result<()> {
    let response = http
        .post(format!("{gateway}/v1/tenants"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(&json!({ "name": "Bench Workspace" }))
        .send()
        .await?;
    if response.status() != 201 {
        bail!("provisioning answered {}", response.status());
    }
    // Read the body, as a client does (the connection is reused only after it).
    response.bytes().await?;
    Ok(())
}

/// Each client posts for `duration`, with a new key per request or its one key; requests/s.
async fn drive(
    http: &reqwest::Client,
    gateway: &str,
    tokens: &[String],
    duration: Duration,
    replay: bool,
) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = tokens
        .iter()
        .map(|token| {
            let (http, gateway, token) = (http.clone(), gateway.to_owned(), token.clone());
            let done = done.clone();
            tokio::spawn(async move {
                while start.elapsed() < duration {
                    let key = if replay {
                        "replay".to_owned()
                    } else {
                        Uuid::new_v4().to_string()
                    };
                    provision(&http, &gateway, &token, &key).await?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

/// Replays over tenancy's gRPC directly (no HTTP, no JWT check): where the HTTP path's time goes.
async fn drive_grpc_replays(addr: &str, clients: u64, duration: Duration) -> anyhow::Result<f64> {
    let client = TenancyServiceClient::new(onramp_kit::grpc::client::channel(addr)?);
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (mut client, done) = (client.clone(), done.clone());
            let user_id = Uuid::new_v4().to_string();
            tokio::spawn(async move {
                while start.elapsed() < duration {
                    client
                        .provision_tenant(ProvisionTenantRequest {
                            caller: Some(Caller {
                                user_id: user_id.clone(),
                                ..Caller::default()
                            }),
                            idempotency_key: "replay".to_owned(),
                            name: "Bench Workspace".to_owned(),
                            slug: String::new(),
                            plan_id: String::new(),
                        })
                        .await?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

/// Runs pgbench with `script` on `url`; returns its tps.
fn pgbench(url: &str, script: &str, clients: u64, seconds: u64) -> anyhow::Result<f64> {
    let path = std::env::temp_dir().join(format!("onramp-bench-{}.sql", Uuid::new_v4().simple()));
    std::fs::write(&path, script)?;
    let output = Command::new("pgbench")
        .args([
            "-n",
            "-M",
            "extended",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
        ])
        .args(["-T", &seconds.to_string(), "-f"])
        .arg(&path)
        .arg(url)
        .output()
        .context("running pgbench (is it installed?)")?;
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .with_context(|| format!("no tps in pgbench output: {stdout}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_u64("BENCH_SECONDS", 5);
    let clients = env_u64("BENCH_CONCURRENCY", 8);
    let duration = Duration::from_secs(seconds);
    let options = support::in_process::options()?;
    let tenancy_url = options
        .server
        .database_url(&options.database_name("tenant-provisioning"));
    let http = reqwest::Client::new();
    let stack = support::in_process::start(options, &http).await?;
    let gateway = stack.gateway_url();
    let mut tokens = Vec::new();
    for _ in 0..clients {
        tokens.push(support::users::signed_in_user(&http, &gateway).await?.0);
    }
    // Warm-up (connections, prepared statements) and each client's replay key.
    for token in &tokens {
        provision(&http, &gateway, token, "replay").await?;
    }
    let db = sqlx::PgPool::connect(&tenancy_url).await?;
    sqlx::query(
        "insert into provisioning_requests (user_id, idempotency_key, name, slug, plan_id, tenant_id, response) \
         select '00000000-0000-4000-8000-0000000000be', 'pgbench-replay', name, slug, plan_id, tenant_id, response \
         from provisioning_requests limit 1",
    )
    .execute(&db)
    .await?;
    db.close().await;

    let provisions = drive(&http, &gateway, &tokens, duration, false).await?;
    let pg_provisions = pgbench(&tenancy_url, PROVISION_SQL, clients, seconds)?;
    let replays = drive(&http, &gateway, &tokens, duration, true).await?;
    let pg_replays = pgbench(&tenancy_url, REPLAY_SQL, clients, seconds)?;
    let tenancy_addr = stack
        .service_addr("tenant-provisioning")
        .context("tenancy runs")?;
    let grpc_replays =
        drive_grpc_replays(&format!("http://{tenancy_addr}"), clients, duration).await?;
    println!(
        "POST /v1/tenants through the gateway, {clients} concurrent clients, {seconds}s each\n\
         new keys: {provisions:>9.1} provisions/s | pgbench same transaction: {pg_provisions:>9.1} tps | ratio {:.3}\n\
         same key: {replays:>9.1} replays/s    | pgbench same lookup:      {pg_replays:>9.1} tps | ratio {:.3}\n\
         (same key over tenancy's gRPC directly, no HTTP or JWT: {grpc_replays:.1} replays/s, ratio {:.3})",
        provisions / pg_provisions,
        replays / pg_replays,
        grpc_replays / pg_replays,
    );
    stack.shutdown_and_drop_databases().await?;
    Ok(())
}
