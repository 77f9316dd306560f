//! Soak: open-loop mixed traffic through the gateway — signups, logins, provisioning, reads and Stripe
//! webhooks — at half of the saturation it first measures, for ten minutes, with every service and
//! the gateway as separate release processes. Reports p50/p99 per route, the error rate, and each
//! process's resident memory before and after; fails when a process grew past the bound.
//!
//! `cargo bench -p onramp-e2e --bench soak` (Postgres at `DATABASE_URL` or 127.0.0.1:5432; not in CI).
//! It builds the five release binaries first unless `BENCH_NO_BUILD` is set or `BENCH_BIN_DIR` names
//! binaries built by hand (`BENCH_BIN_DIR=$CARGO_TARGET_DIR/debug` for a quick functional run). Env:
//! `SOAK_SECONDS` (default 600), `SOAK_SATURATION_SECONDS` (default 15), `SOAK_LOAD_PERCENT`
//! (default 50: the share of saturation offered), `SOAK_CONCURRENCY` (default 16: the closed-loop
//! clients that measure saturation).
//!
//! The memory bound: after the soak each process's RSS is at most 64 MiB above what it was after
//! the saturation run (which already filled its pools and caches). A leak of one allocation per
//! request grows far past that in ten minutes at these rates; allocator noise does not reach it.
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

mod support;

use std::{
    collections::BTreeMap,
    process::Command,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail, ensure};
use serde_json::json;
use stripe_webhook::Webhook;
use support::{
    Process, create_database, database_url, drop_database, env_u64, free_addr, percentile,
    service_env, users::signed_in_user, wait_serving,
};
use uuid::Uuid;

const SERVICES: [(&str, &str, &str); 4] = [
    ("identity", "onramp-identity", "IDENTITY_SERVICE_ADDR"),
    (
        "tenant-provisioning",
        "onramp-tenant-provisioning",
        "TENANT_PROVISIONING_SERVICE_ADDR",
    ),
    ("billing", "onramp-billing", "BILLING_SERVICE_ADDR"),
    ("onboarding", "onramp-onboarding", "ONBOARDING_SERVICE_ADDR"),
];
/// The bound on each process's RSS growth over the soak.
const RSS_GROWTH_BOUND_KIB: i64 = 64 * 1024;
const PASSWORD: &str = "correct horse battery staple";

/// The mix: each route and its weight.
const MIX: [(Route, u32); 5] = [
    (Route::Signup, 1),
    (Route::Login, 2),
    (Route::Provision, 1),
    (Route::Read, 5),
    (Route::Webhook, 2),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Route {
    Signup,
    Login,
    Provision,
    Read,
    Webhook,
}

/// The n-th request of the mix.
fn route_of(n: u64) -> Route {
    let total: u32 = MIX.iter().map(|(_, w)| w).sum();
    let mut slot = u32::try_from(n % u64::from(total)).unwrap_or(0);
    for (route, weight) in MIX {
        if slot < weight {
            return route;
        }
        slot -= weight;
    }
    Route::Read
}

/// What every request needs: the gateway, a signed-in user, a login and the webhook secret.
struct Target {
    http: reqwest::Client,
    base: String,
    token: String,
    login_email: String,
    secret: String,
}

impl Target {
    /// Sends the request for `route`; its status (`0`: no answer).
    async fn send(&self, route: Route, n: u64) -> u16 {
        let request = match route {
            Route::Signup => self
                .http
                .post(format!("{}/v1/auth/signup", self.base))
                .json(
                    &json!({ "email": format!("soak-{}@example.com", Uuid::new_v4().simple()),
                    "password": PASSWORD, "display_name": "Soak" }),
                ),
            Route::Login => self
                .http
                .post(format!("{}/v1/auth/login", self.base))
                .json(&json!({ "email": self.login_email, "password": PASSWORD })),
            Route::Provision => self
                .http
                .post(format!("{}/v1/tenants", self.base))
                .bearer_auth(&self.token)
                .header("idempotency-key", Uuid::new_v4().to_string())
                .json(&json!({ "name": "Soak" })),
            Route::Read => self
                .http
                .get(format!("{}/v1/users/me", self.base))
                .bearer_auth(&self.token),
            Route::Webhook => {
                let body = subscription_event(n);
                let signature = Webhook::generate_test_header(&body, &self.secret, None);
                self.http
                    .post(format!("{}/v1/webhooks/stripe", self.base))
                    .header("stripe-signature", signature)
                    .header("content-type", "application/json")
                    .body(body)
            }
        };
        request
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_or(0, |r| r.status().as_u16())
    }
}

/// A subscription update Stripe might send: a fresh subscription each time, so every delivery is
/// applied (an insert and an outbox row), never a cheap duplicate.
fn subscription_event(n: u64) -> String {
    let created = 1_790_000_000 + i64::try_from(n).unwrap_or(0);
    json!({"id": format!("evt_soak_{}", Uuid::new_v4().simple()), "object": "event",
        "api_version": "2017-08-15", "type": "customer.subscription.updated", "created": created,
        "livemode": false, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},
        "data": {"object": {"id": format!("sub_soak_{}", Uuid::new_v4().simple()),
            "object": "subscription", "customer": "cus_soak", "status": "active",
            "metadata": {"tenant_id": Uuid::new_v4().to_string()},
            "items": {"data": [{"price": {"id": "price_soak"}, "quantity": 1}]}}}})
    .to_string()
}

/// Latencies per route, failures per route and status.
#[derive(Default)]
struct Record {
    latencies: BTreeMap<Route, Vec<Duration>>,
    failures: BTreeMap<(Route, u16), u64>,
}

impl Record {
    fn add(&mut self, route: Route, took: Duration, status: u16) {
        self.latencies.entry(route).or_default().push(took);
        if !(200..300).contains(&status) {
            *self.failures.entry((route, status)).or_default() += 1;
        }
    }

    fn failed_on(&self, route: Route) -> u64 {
        self.failures
            .iter()
            .filter(|((r, _), _)| *r == route)
            .map(|(_, n)| n)
            .sum()
    }

    fn count(&self) -> usize {
        self.latencies.values().map(Vec::len).sum()
    }

    fn failed(&self) -> u64 {
        self.failures.values().sum()
    }
}

/// Closed loop: `clients` each send the mix back to back for `seconds`; requests per second.
async fn saturation(target: &Arc<Target>, clients: u64, seconds: u64) -> f64 {
    let until = Instant::now() + Duration::from_secs(seconds);
    let record = Arc::new(Mutex::new(Record::default()));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (target, record) = (target.clone(), record.clone());
            tokio::spawn(async move {
                let mut n = client;
                while Instant::now() < until {
                    let route = route_of(n);
                    let sent = Instant::now();
                    let ok = target.send(route, n).await;
                    record.lock().unwrap_or_else(PoisonError::into_inner).add(
                        route,
                        sent.elapsed(),
                        ok,
                    );
                    n += clients;
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    let record = record.lock().unwrap_or_else(PoisonError::into_inner);
    #[allow(clippy::cast_precision_loss)]
    let rate = record.count() as f64 / start.elapsed().as_secs_f64();
    println!(
        "saturation: {rate:.1} req/s with {clients} closed-loop clients; failures: {:?}",
        record.failures
    );
    rate
}

/// Open loop: one request every `1/rate` s for `seconds`, each timed from when it was due (so a
/// slow answer cannot hide the requests queued behind it).
async fn soak(target: &Arc<Target>, rate: f64, seconds: u64) -> Record {
    let record = Arc::new(Mutex::new(Record::default()));
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    let mut n: u64 = 0;
    loop {
        let due = start + interval.mul_f64(n as f64);
        if due >= end {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let (target, record, route) = (target.clone(), record.clone(), route_of(n));
        tasks.spawn(async move {
            let status = target.send(route, n).await;
            record
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .add(route, due.elapsed(), status);
        });
        while tasks.try_join_next().is_some() {}
        n += 1;
    }
    while tasks.join_next().await.is_some() {}
    Arc::into_inner(record)
        .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
        .unwrap_or_default()
}

/// Resident set size of `pid`, KiB (`VmRSS` in `/proc/<pid>/status`).
fn rss_kib(pid: u32) -> anyhow::Result<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .context("no VmRSS")
}

fn build_all() -> anyhow::Result<()> {
    if std::env::var_os("BENCH_NO_BUILD").is_some() || std::env::var_os("BENCH_BIN_DIR").is_some() {
        return Ok(());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.args(["build", "--release", "--bins", "-p", "onramp-gateway"]);
    for (_, package, _) in SERVICES {
        command.args(["-p", package]);
    }
    ensure!(command.status()?.success(), "building the binaries failed");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_u64("SOAK_SECONDS", 600);
    let saturation_seconds = env_u64("SOAK_SATURATION_SECONDS", 15);
    let percent = env_u64("SOAK_LOAD_PERCENT", 50);
    let clients = env_u64("SOAK_CONCURRENCY", 16);
    build_all()?;
    let server = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());

    let secret = format!("whsec_{}", Uuid::new_v4().simple());
    let mut databases = Vec::new();
    let mut processes = Vec::new();
    let mut gateway_env = Vec::new();
    for (name, _, var) in SERVICES {
        let database = create_database(&server, "onramp_soak").await?;
        let addr = free_addr()?;
        let mut env = service_env(addr, database_url(&server, &database)?, 10);
        if name == "billing" {
            env.push(("STRIPE_WEBHOOK_SECRETS", secret.clone()));
        }
        databases.push(database);
        processes.push(Process::spawn(name, &env)?);
        wait_serving(addr).await?;
        gateway_env.push((var, format!("http://{addr}")));
    }
    let listen = free_addr()?;
    gateway_env.extend([
        ("HTTP_LISTEN_ADDR", listen.to_string()),
        ("LOG_FORMAT", "json".into()),
        ("RUST_LOG", "warn".into()),
    ]);
    processes.push(Process::spawn("gateway", &gateway_env)?);
    let base = format!("http://{listen}");
    let http = reqwest::Client::new();
    let ready = Instant::now();
    while !http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        ensure!(
            ready.elapsed() < Duration::from_secs(60),
            "the gateway never became ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let outcome = run(
        &http,
        &base,
        secret,
        seconds,
        saturation_seconds,
        percent,
        clients,
        &processes,
    )
    .await;
    drop(processes);
    for database in &databases {
        drop_database(&server, database).await?;
    }
    outcome
}

#[allow(clippy::too_many_arguments)]
async fn run(
    http: &reqwest::Client,
    base: &str,
    secret: String,
    seconds: u64,
    saturation_seconds: u64,
    percent: u64,
    clients: u64,
    processes: &[Process],
) -> anyhow::Result<()> {
    let (token, _) = signed_in_user(http, base).await?;
    let login_email = format!("soak-login-{}@example.com", Uuid::new_v4().simple());
    let signup = http
        .post(format!("{base}/v1/auth/signup"))
        .json(&json!({ "email": login_email, "password": PASSWORD, "display_name": "Soak" }))
        .send()
        .await?;
    ensure!(
        signup.status() == 202,
        "signup answered {}",
        signup.status()
    );
    let target = Arc::new(Target {
        http: http.clone(),
        base: base.to_owned(),
        token,
        login_email,
        secret,
    });

    let saturated = saturation(&target, clients, saturation_seconds).await;
    #[allow(clippy::cast_precision_loss)]
    let rate = saturated * percent as f64 / 100.0;
    ensure!(rate > 0.0, "nothing succeeded while measuring saturation");
    let before: Vec<i64> = processes
        .iter()
        .map(|p| rss_kib(p.pid()))
        .collect::<anyhow::Result<_>>()?;
    println!("soak: {rate:.1} req/s open loop ({percent}% of saturation) for {seconds}s");
    let record = soak(&target, rate, seconds).await;
    let after: Vec<i64> = processes
        .iter()
        .map(|p| rss_kib(p.pid()))
        .collect::<anyhow::Result<_>>()?;

    println!(
        "{:<10} {:>8} {:>9} {:>9} {:>8}",
        "route", "requests", "p50", "p99", "errors"
    );
    for (route, latencies) in &record.latencies {
        let mut sorted = latencies.clone();
        sorted.sort();
        println!(
            "{:<10} {:>8} {:>9.1?} {:>9.1?} {:>8}",
            format!("{route:?}"),
            sorted.len(),
            percentile(&sorted, 0.50),
            percentile(&sorted, 0.99),
            record.failed_on(*route)
        );
    }
    println!(
        "failures by (route, status; 0: no answer): {:?}",
        record.failures
    );
    #[allow(clippy::cast_precision_loss)]
    let error_rate = record.failed() as f64 / record.count().max(1) as f64;
    println!(
        "total {} requests, error rate {:.3}%",
        record.count(),
        error_rate * 100.0
    );
    let mut grown = Vec::new();
    println!(
        "{:<20} {:>12} {:>12} {:>10}",
        "process", "RSS before", "RSS after", "growth"
    );
    for ((process, before), after) in processes.iter().zip(&before).zip(&after) {
        let growth = after - before;
        println!(
            "{:<20} {:>9} KiB {:>9} KiB {:>6} KiB",
            process.name, before, after, growth
        );
        if growth > RSS_GROWTH_BOUND_KIB {
            grown.push(process.name);
        }
    }
    if !grown.is_empty() {
        bail!("RSS grew past {RSS_GROWTH_BOUND_KIB} KiB: {grown:?}");
    }
    println!("every process stayed within {RSS_GROWTH_BOUND_KIB} KiB of its RSS before the soak");
    Ok(())
}
