//! Provisioning throughput next to the Postgres ceiling for the same work, measured in one run.
//!
//! `cargo bench -p onramp-tenant-provisioning --bench provisioning` (Postgres at `DATABASE_URL` or
//! 127.0.0.1:5432; `BENCH_SECONDS`, default 5, and `BENCH_CONCURRENCY`, default 8). It starts the real
//! tenancy server on a fresh database and drives ProvisionTenant over gRPC with new keys
//! (provisions/s) and with one key (replays/s); then pgbench runs the same SQL — the service's
//! transaction for a new key, its one-statement lookup for a replay — with as many clients for as
//! long. It prints each rate and its ratio to pgbench's: the share of the database's ceiling the
//! service reaches. This measures tenancy alone; `cargo bench -p onramp-e2e --bench tenancy_gateway`
//! measures the same through the gateway with signed-in users.

use std::{
    net::SocketAddr,
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use onramp_kit::service_config::ServiceConfig;
use onramp_proto::{
    common::v1::Caller,
    tenancy::v1::{ProvisionTenantRequest, tenancy_service_client::TenancyServiceClient},
};
use onramp_tenant_provisioning::{Application, Config};
use sqlx::postgres::PgConnectOptions;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use uuid::Uuid;

/// The service's transaction for a new key, as pgbench runs it (shared with the gateway bench).
const PROVISION_SQL: &str = include_str!("sql/provision.sql");

/// The service's one-statement lookup for a replay (a row seeded under `pgbench-replay`).
const REPLAY_SQL: &str = include_str!("sql/replay.sql");

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn request(user: &str, key: String) -> ProvisionTenantRequest {
    ProvisionTenantRequest {
        caller: Some(Caller {
            user_id: user.to_owned(),
            ..Caller::default()
        }),
        idempotency_key: key,
        name: "Bench Workspace".to_owned(),
        slug: String::new(),
        plan_id: String::new(),
    }
}

/// Runs `concurrency` workers calling ProvisionTenant for `duration`; returns calls per second.
async fn drive(
    client: &TenancyServiceClient<Channel>,
    concurrency: u64,
    duration: Duration,
    replay: bool,
) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let mut client = client.clone();
            let (done, failed) = (done.clone(), failed.clone());
            tokio::spawn(async move {
                let user = Uuid::new_v4().to_string();
                while start.elapsed() < duration {
                    let key = if replay {
                        "replay".to_owned()
                    } else {
                        Uuid::new_v4().to_string()
                    };
                    match client.provision_tenant(request(&user, key)).await {
                        Ok(_) => done.fetch_add(1, Ordering::Relaxed),
                        Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    if failed.load(Ordering::Relaxed) > 0 {
        bail!("{} calls failed", failed.load(Ordering::Relaxed));
    }
    Ok(done.load(Ordering::Relaxed) as f64 / elapsed)
}

/// Runs pgbench with `script` on `url`; returns its tps.
fn pgbench(url: &str, script: &str, concurrency: u64, seconds: u64) -> anyhow::Result<f64> {
    let path = std::env::temp_dir().join(format!("onramp-bench-{}.sql", Uuid::new_v4().simple()));
    std::fs::write(&path, script)?;
    let output = Command::new("pgbench")
        .args([
            "-n",
            "-M",
            "extended",
            "-c",
            &concurrency.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            "-f",
        ])
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
    let concurrency = env_u64("BENCH_CONCURRENCY", 8);
    let duration = Duration::from_secs(seconds);
    let server_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let server: PgConnectOptions = server_url.parse()?;
    let database = format!(
        "onramp_bench_{}",
        &Uuid::new_v4().simple().to_string()[..12]
    );
    onramp_kit::db::ensure_database(&server, &database).await?;
    let mut url = url::Url::parse(&server_url)?;
    url.set_path(&database);

    let app = Application::build(Config::new(ServiceConfig::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        url.as_str(),
    )))
    .await?;
    let addr = app.local_addr()?;
    let stop = CancellationToken::new();
    let task = tokio::spawn(app.run_until_stopped(stop.clone()));
    // The services' own client settings (TCP_NODELAY, keep-alive), as the gateway connects.
    let client = TenancyServiceClient::new(onramp_kit::grpc::client::channel(&format!(
        "http://{addr}"
    ))?);
    // Ready when a provisioning succeeds (migrations applied); this also seeds the replay key.
    let started = Instant::now();
    let replay_user = Uuid::new_v4().to_string();
    while client
        .clone()
        .provision_tenant(request(&replay_user, "replay".to_owned()))
        .await
        .is_err()
    {
        if started.elapsed() > Duration::from_secs(30) {
            bail!("tenancy did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pool = sqlx::PgPool::connect_with(server.clone().database(&database)).await?;
    sqlx::query(
        "insert into provisioning_requests (user_id, idempotency_key, name, slug, plan_id, tenant_id, response) \
         select '00000000-0000-4000-8000-0000000000be', 'pgbench-replay', name, slug, plan_id, tenant_id, response \
         from provisioning_requests limit 1",
    )
    .execute(&pool)
    .await?;
    pool.close().await;

    let provisions = drive(&client, concurrency, duration, false).await?;
    let pg_provisions = pgbench(url.as_str(), PROVISION_SQL, concurrency, seconds)?;
    let replays = drive(&client, concurrency, duration, true).await?;
    let pg_replays = pgbench(url.as_str(), REPLAY_SQL, concurrency, seconds)?;

    let report = format!(
        "tenancy ProvisionTenant over gRPC, {concurrency} concurrent clients, {seconds}s each\n\
         new keys: {provisions:>9.1} provisions/s | pgbench same transaction: {pg_provisions:>9.1} tps | ratio {:.3}\n\
         same key: {replays:>9.1} replays/s    | pgbench same lookup:      {pg_replays:>9.1} tps | ratio {:.3}\n",
        provisions / pg_provisions,
        replays / pg_replays,
    );
    std::io::Write::write_all(&mut std::io::stdout(), report.as_bytes())?;

    stop.cancel();
    task.await??;
    onramp_kit::db::drop_database(&server, &database).await?;
    Ok(())
}
