//! What the per-process benches share: the release binaries started as OS processes (so each one's
//! CPU can be read on its own), CPU time from `/proc/<pid>/stat`, the Postgres backends serving a
//! database, latency percentiles and pgbench.

#![allow(dead_code, reason = "each bench uses a part")]

pub(crate) mod in_process;
pub(crate) mod ingest_pgbench;
pub(crate) mod users;

use std::{
    net::{SocketAddr, TcpListener},
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use sqlx::PgPool;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use uuid::Uuid;

/// Linux reports CPU time in clock ticks of 1/100 s (`getconf CLK_TCK` on every mainstream kernel).
const TICKS_PER_SECOND: f64 = 100.0;

pub(crate) fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Where the binaries are: `BENCH_BIN_DIR` (e.g. a copy of an earlier build, to compare), else
/// `target/release`, where the bench executable's own profile puts them.
fn bin_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("BENCH_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe()?;
    // target/release/deps/<bench>-<hash> -> target/release
    exe.parent()
        .and_then(|deps| deps.parent())
        .map(PathBuf::from)
        .context("target dir")
}

/// Builds the release binaries the benches start (cargo builds only the bench itself), so a run never
/// measures stale ones; always the same three packages, so both benches share one set of artifacts.
/// `BENCH_NO_BUILD=1` or `BENCH_BIN_DIR` skips it (binaries built by hand).
pub(crate) fn build_binaries() -> anyhow::Result<()> {
    if std::env::var_os("BENCH_NO_BUILD").is_some() || std::env::var_os("BENCH_BIN_DIR").is_some() {
        return Ok(());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["build", "--release", "--bins"])
        .args([
            "-p",
            "onramp-billing",
            "-p",
            "onramp-gateway",
            "-p",
            "onramp-identity",
        ])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build of the billing, gateway and identity binaries failed");
    }
    Ok(())
}

pub(crate) fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// A started binary, killed when dropped.
pub(crate) struct Process {
    pub(crate) name: &'static str,
    child: std::process::Child,
}

impl Process {
    pub(crate) fn spawn(name: &'static str, env: &[(&str, String)]) -> anyhow::Result<Self> {
        let path = bin_dir()?.join(name);
        let mut command = Command::new(&path);
        command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        if std::env::var_os("BENCH_LOG").is_none() {
            command.stdout(Stdio::null()).stderr(Stdio::null());
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", path.display()))?;
        Ok(Self { name, child })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU seconds (user + system, all threads) the process has used so far.
    pub(crate) fn cpu(&self) -> anyhow::Result<f64> {
        cpu_seconds(self.pid())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// utime + stime of `pid` in seconds, from `/proc/<pid>/stat` (fields 14 and 15, counted after the
/// parenthesised command name, which may itself contain spaces).
pub(crate) fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("stat format")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14, stime field 15.
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields.get(i - 3).context("stat field")?.parse::<u64>()? as f64)
    };
    Ok((ticks(14)? + ticks(15)?) / TICKS_PER_SECOND)
}

/// The Postgres backends connected to `database` (other than `admin`'s own), optionally only those
/// whose `application_name` is `application`.
pub(crate) async fn backends(
    admin: &PgPool,
    database: &str,
    application: Option<&str>,
) -> anyhow::Result<Vec<u32>> {
    let pids: Vec<i32> = sqlx::query_scalar(
        "select pid from pg_stat_activity
         where datname = $1 and pid <> pg_backend_pid() and backend_type = 'client backend'
           and ($2::text is null or application_name = $2)",
    )
    .bind(database)
    .bind(application)
    .fetch_all(admin)
    .await?;
    Ok(pids
        .into_iter()
        .filter_map(|p| u32::try_from(p).ok())
        .collect())
}

/// CPU of a set of processes that may come and go: the sum over the pids seen at the end of what
/// each used since the start (a pid first seen at the end counts from zero). A backend that ended
/// during the run is missed, so the pools are warmed up first and keep their connections.
#[derive(Debug, Default)]
pub(crate) struct CpuBaseline(Vec<(u32, f64)>);

impl CpuBaseline {
    pub(crate) fn read(pids: &[u32]) -> Self {
        Self(
            pids.iter()
                .filter_map(|&pid| Some((pid, cpu_seconds(pid).ok()?)))
                .collect(),
        )
    }

    pub(crate) fn used_since(&self, pids: &[u32]) -> f64 {
        pids.iter()
            .filter_map(|&pid| {
                let now = cpu_seconds(pid).ok()?;
                let before = self
                    .0
                    .iter()
                    .find(|(p, _)| *p == pid)
                    .map_or(0.0, |(_, c)| *c);
                Some(now - before)
            })
            .sum()
    }
}

/// Waits until the gRPC server at `addr` reports SERVING (billing: after its migrations).
pub(crate) async fn wait_serving(addr: SocketAddr) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?;
        if let Ok(channel) = endpoint.connect().await {
            let status = HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await;
            if status.is_ok_and(|s| s.into_inner().status() == ServingStatus::Serving) {
                return Ok(());
            }
        }
        if start.elapsed() > Duration::from_secs(60) {
            bail!("{addr} never reported SERVING");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The gateway's environment with `billing` and `identity` where given, and ports nobody listens on
/// for the peers a bench does not start (the gateway connects lazily).
pub(crate) fn gateway_env(
    listen: SocketAddr,
    identity: Option<SocketAddr>,
    billing: Option<SocketAddr>,
) -> anyhow::Result<Vec<(&'static str, String)>> {
    let peer = |addr: Option<SocketAddr>| -> anyhow::Result<String> {
        Ok(format!("http://{}", addr.map_or_else(free_addr, Ok)?))
    };
    Ok(vec![
        ("HTTP_LISTEN_ADDR", listen.to_string()),
        ("IDENTITY_SERVICE_ADDR", peer(identity)?),
        ("TENANT_PROVISIONING_SERVICE_ADDR", peer(None)?),
        ("BILLING_SERVICE_ADDR", peer(billing)?),
        ("ONBOARDING_SERVICE_ADDR", peer(None)?),
        ("LOG_FORMAT", "json".into()),
        ("RUST_LOG", "warn".into()),
    ])
}

/// A service's environment, as the Kubernetes manifests set it.
pub(crate) fn service_env(
    listen: SocketAddr,
    database_url: String,
    max_connections: u64,
) -> Vec<(&'static str, String)> {
    vec![
        ("GRPC_LISTEN_ADDR", listen.to_string()),
        ("DATABASE_URL", database_url),
        ("DATABASE_MAX_CONNECTIONS", max_connections.to_string()),
        ("LOG_FORMAT", "json".into()),
        ("RUST_LOG", "warn".into()),
    ]
}

/// A fresh database on the server at `server_url` (`postgres://user@host:port/db`); its URL.
pub(crate) async fn create_database(server_url: &str, prefix: &str) -> anyhow::Result<String> {
    let name = format!("{prefix}_{}", &Uuid::new_v4().simple().to_string()[..12]);
    let admin = PgPool::connect(server_url).await?;
    sqlx::query(&format!("create database \"{name}\""))
        .execute(&admin)
        .await?;
    admin.close().await;
    Ok(name)
}

pub(crate) async fn drop_database(server_url: &str, name: &str) -> anyhow::Result<()> {
    let admin = PgPool::connect(server_url).await?;
    sqlx::query(&format!("drop database if exists \"{name}\" with (force)"))
        .execute(&admin)
        .await?;
    admin.close().await;
    Ok(())
}

/// `server_url` with its database replaced by `name`.
pub(crate) fn database_url(server_url: &str, name: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(server_url)?;
    url.set_path(name);
    Ok(url.to_string())
}

/// The `p` quantile of sorted `latencies`.
pub(crate) fn percentile(latencies: &[Duration], p: f64) -> Duration {
    let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
    latencies.get(index).copied().unwrap_or_default()
}

/// pgbench's result: transactions per second, and the CPU its backends used per transaction.
#[derive(Debug)]
pub(crate) struct Pgbench {
    pub(crate) tps: f64,
    pub(crate) postgres_ms_per_tx: f64,
}

/// Runs `script` with pgbench (prepared statements, as sqlx uses) on `database_url`; reads the CPU of
/// its backends from `/proc` as they run (sampled, since they end with pgbench).
pub(crate) async fn pgbench(
    admin: &PgPool,
    database: &str,
    database_url: &str,
    script: &str,
    clients: u64,
    seconds: u64,
) -> anyhow::Result<Pgbench> {
    let path = std::env::temp_dir().join(format!("onramp-bench-{}.sql", Uuid::new_v4().simple()));
    std::fs::write(&path, script)?;
    let mut child = tokio::process::Command::new("pgbench")
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
        ])
        .args(["-T", &seconds.to_string(), "-f"])
        .arg(&path)
        .arg(database_url)
        .env("PGAPPNAME", "pgbench")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running pgbench (is it installed?)")?;
    // Backends connect at the start and end with pgbench: sample each one's CPU until then; the last
    // sample of each is its total (within one sampling interval, of a run several seconds long).
    let mut last: Vec<(u32, f64)> = Vec::new();
    let mut stdout = child.stdout.take().context("stdout")?;
    let mut stderr = child.stderr.take().context("stderr")?;
    let reader = tokio::spawn(async move {
        use tokio::io::AsyncReadExt as _;
        let (mut out, mut err) = (String::new(), String::new());
        stdout.read_to_string(&mut out).await?;
        stderr.read_to_string(&mut err).await?;
        anyhow::Ok((out, err))
    });
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        for pid in backends(admin, database, Some("pgbench")).await? {
            if let Ok(cpu) = cpu_seconds(pid) {
                match last.iter_mut().find(|(p, _)| *p == pid) {
                    Some(entry) => entry.1 = cpu,
                    None => last.push((pid, cpu)),
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (stdout, stderr) = reader.await??;
    let _ = std::fs::remove_file(&path);
    let processed: f64 = stdout
        .lines()
        .find_map(|line| line.strip_prefix("number of transactions actually processed: "))
        .and_then(|rest| rest.split('/').next())
        .and_then(|n| n.trim().parse().ok())
        .with_context(|| format!("pgbench failed: {stdout}{stderr}"))?;
    let tps = stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .with_context(|| format!("no tps in pgbench output: {stdout}"))?;
    let cpu: f64 = last.iter().map(|(_, c)| c).sum();
    Ok(Pgbench {
        tps,
        postgres_ms_per_tx: cpu * 1000.0 / processed.max(1.0),
    })
}
