//! Every database connection of identity and tenant-provisioning terminated (`pg_terminate_backend`,
//! what a Postgres failover or an idle-connection reaper does) three times while signups and
//! provisioning flow: the pools recover on their own — no service restarts, requests succeed again
//! afterwards — no request hangs past its deadline, and no workspace is left half-made.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::fleet::{Fleet, bounded, template_items};

const TERMINATIONS: usize = 3;
/// Far past the gateway's 2s budget: a request still open by then is hanging, not slow.
const HANG: Duration = Duration::from_secs(15);

/// Answers by workload and status (`0`: no answer in time or a transport error).
#[derive(Default)]
struct Seen {
    statuses: Mutex<BTreeMap<(&'static str, u16), u32>>,
    ok: [AtomicU32; 2],
}

impl Seen {
    fn record(&self, workload: usize, status: u16) {
        let name = ["signup", "provision"][workload];
        *self
            .statuses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((name, status))
            .or_default() += 1;
        if (200..300).contains(&status) {
            self.ok[workload].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits (bounded) until both workloads have `more` successes beyond what they had.
    async fn wait_for_more(&self, more: u32) {
        let from: Vec<u32> = self.ok.iter().map(|n| n.load(Ordering::Relaxed)).collect();
        let start = Instant::now();
        while self
            .ok
            .iter()
            .zip(&from)
            .any(|(now, before)| now.load(Ordering::Relaxed) < before + more)
        {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "requests stopped succeeding: {:?}",
                self.statuses.lock().unwrap_or_else(PoisonError::into_inner)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Terminates every backend of `databases` but the caller's own; how many it ended.
async fn terminate_backends(admin: &PgPool, databases: &[String]) -> i64 {
    sqlx::query_scalar(
        "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity
          where datname = any($1) and pid <> pg_backend_pid()) terminated",
    )
    .bind(databases)
    .fetch_one(admin)
    .await
    .expect("terminate")
}

/// One client: a signup (identity's database) or a provisioning (tenancy's) at a time, each with a
/// fresh email or key, until `stop`.
async fn client(
    workload: usize,
    http: reqwest::Client,
    base: String,
    token: String,
    stop: Arc<AtomicBool>,
    seen: Arc<Seen>,
) {
    while !stop.load(Ordering::Relaxed) {
        let request = if workload == 0 {
            http.post(format!("{base}/v1/auth/signup")).json(&json!({
                "email": format!("pg-{}@example.com", Uuid::new_v4().simple()),
                "password": "correct horse battery staple", "display_name": "Fault",
            }))
        } else {
            http.post(format!("{base}/v1/tenants"))
                .bearer_auth(&token)
                .header("idempotency-key", Uuid::new_v4().to_string())
                .json(&json!({ "name": "Backend fault" }))
        };
        let status = match request.timeout(HANG).send().await {
            Ok(response) => response.status().as_u16(),
            Err(error) => {
                assert!(!error.is_timeout(), "a request hung past its deadline");
                0
            }
        };
        seen.record(workload, status);
        if !(200..300).contains(&status) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn faults_terminated_backends_mid_load_recover_without_a_restart() {
    bounded(Duration::from_secs(120), async {
        let mut fleet = Fleet::services(&[]).await;
        fleet.start_gateway("2s", &[]).await;
        let (_, token) = fleet.user().await;
        let databases = vec![
            fleet.database("identity").to_owned(),
            fleet.database("tenant-provisioning").to_owned(),
        ];
        let admin = fleet.pool("billing").await;

        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Seen::default());
        let clients: Vec<_> = [0, 0, 1, 1]
            .into_iter()
            .map(|workload| {
                let (http, base, token) = (fleet.http.clone(), fleet.base.clone(), token.clone());
                tokio::spawn(client(
                    workload,
                    http,
                    base,
                    token,
                    stop.clone(),
                    seen.clone(),
                ))
            })
            .collect();
        let mut terminated = 0;
        for _ in 0..TERMINATIONS {
            seen.wait_for_more(5).await;
            terminated += terminate_backends(&admin, &databases).await;
        }
        // The same processes serve again: their pools replaced the dead connections.
        seen.wait_for_more(10).await;
        stop.store(true, Ordering::Relaxed);
        for client in clients {
            client.await.expect("client");
        }
        let statuses = seen
            .statuses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        eprintln!("terminated {terminated} backends; answers: {statuses:?}");
        assert!(terminated > 0, "there were connections to terminate");
        // A dead connection is a reason to retry, never a bug (500) or a refusal (422): every
        // failed answer is 503 or 504 (the client's retry with the same key then succeeds).
        let wrong: Vec<_> = statuses
            .iter()
            .filter(|((_, status), _)| {
                !(200..300).contains(status) && !matches!(status, 503 | 504)
            })
            .collect();
        assert!(wrong.is_empty(), "answers other than 2xx/503/504: {wrong:?}");
        for service in ["identity", "tenant-provisioning"] {
            assert!(
                fleet.is_running(service),
                "{service} recovered without a restart"
            );
        }
        // A provisioning whose connection died mid-transaction left nothing half-made.
        let tenancy = fleet.pool("tenant-provisioning").await;
        let partial: Vec<Uuid> = sqlx::query_scalar(
            "select t.id from tenants t
              where (select count(*) from memberships m where m.tenant_id = t.id and m.role = 'owner') <> 1
                 or (select count(*) from starter_items s where s.tenant_id = t.id) <> $1
                 or not exists (select 1 from provisioning_requests r where r.tenant_id = t.id)",
        )
        .bind(template_items())
        .fetch_all(&tenancy)
        .await
        .expect("partial tenants");
        assert!(partial.is_empty(), "half-made workspaces: {partial:?}");
        tenancy.close().await;
        admin.close().await;
    })
    .await;
}
