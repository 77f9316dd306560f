//! `kill -9` of onboarding while owners complete their workspaces' first setup step (with data,
//! each retried on 5xx or a transport error until 200) and read their checklists. After the restart
//! every acknowledged completion is stored exactly once with the data that was sent, and no answer
//! was a `500`.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::fleet::{Fleet, PEER, bounded};

const WORKSPACES: usize = 12;
const WORKERS: usize = 3;
/// How long one logical request may keep retrying before the test fails.
const RETRY_FOR: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Seen {
    statuses: Mutex<BTreeMap<(&'static str, u16), usize>>,
    completed: AtomicUsize,
}

impl Seen {
    fn record(&self, route: &'static str, status: u16) {
        *self
            .statuses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((route, status))
            .or_default() += 1;
    }
}

fn company(tenant: &str) -> String {
    format!("Company {}", &tenant[..8])
}

/// Sends `request()` until it is answered 200, retrying 5xx and transport errors (bounded).
async fn until_ok(route: &'static str, seen: &Seen, request: impl Fn() -> reqwest::RequestBuilder) {
    let start = Instant::now();
    loop {
        let status = match request().send().await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        };
        seen.record(route, status);
        if status == 200 {
            return;
        }
        assert!(
            status == 0 || status >= 500,
            "{route}: a crash is never the client's fault: {status}"
        );
        assert!(start.elapsed() < RETRY_FOR, "{route} never succeeded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn workspace(fleet: &Fleet, token: &str) -> String {
    let created: Value = fleet
        .http
        .post(format!("{}/v1/tenants", fleet.base))
        .bearer_auth(token)
        .header("idempotency-key", Uuid::new_v4().to_string())
        .json(&json!({ "name": "Onboarding fault" }))
        .send()
        .await
        .expect("provision")
        .json()
        .await
        .expect("tenant json");
    created["tenant"]["id"]
        .as_str()
        .expect("tenant id")
        .to_owned()
}

#[tokio::test]
async fn faults_kill9_of_onboarding_mid_step_updates_keeps_every_acknowledged_completion() {
    bounded(Duration::from_secs(150), async {
        let peers = [
            (
                "onboarding",
                "IDENTITY_SERVICE_ADDR",
                format!("{PEER}identity"),
            ),
            (
                "onboarding",
                "TENANT_PROVISIONING_SERVICE_ADDR",
                format!("{PEER}tenant-provisioning"),
            ),
            (
                "onboarding",
                "BILLING_SERVICE_ADDR",
                format!("{PEER}billing"),
            ),
        ];
        let mut fleet = Fleet::services(&peers).await;
        fleet.start_gateway("5s", &[]).await;
        let (user_id, token) = fleet.user().await;
        let mut tenants = Vec::new();
        for _ in 0..WORKSPACES {
            tenants.push(workspace(&fleet, &token).await);
        }

        let seen = Arc::new(Seen::default());
        let workers: Vec<_> = (0..WORKERS)
            .map(|worker| {
                let mine: Vec<String> = tenants
                    .iter()
                    .skip(worker)
                    .step_by(WORKERS)
                    .cloned()
                    .collect();
                let (http, base, token, seen) = (
                    fleet.http.clone(),
                    fleet.base.clone(),
                    token.clone(),
                    seen.clone(),
                );
                tokio::spawn(async move {
                    for tenant in mine {
                        let body = json!({ "action": "complete", "data": { "first_setup": {
                            "company_name": company(&tenant), "team_size": "small",
                            "use_case": "Invoices", "time_zone": "Europe/Berlin" } } });
                        let url =
                            format!("{base}/v1/onboarding/steps/first_setup?tenant_id={tenant}");
                        until_ok("complete", &seen, || {
                            http.patch(&url).bearer_auth(&token).json(&body)
                        })
                        .await;
                        seen.completed.fetch_add(1, Ordering::Relaxed);
                        let read = format!("{base}/v1/onboarding?tenant_id={tenant}");
                        until_ok("checklist", &seen, || http.get(&read).bearer_auth(&token)).await;
                    }
                })
            })
            .collect();
        let start = Instant::now();
        while seen.completed.load(Ordering::Relaxed) < WORKSPACES / 3 {
            assert!(
                start.elapsed() < Duration::from_secs(40),
                "step updates stalled"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        fleet.kill9("onboarding").await;
        fleet.restart("onboarding").await;
        for worker in workers {
            worker.await.expect("worker");
        }
        let statuses = seen
            .statuses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        eprintln!("answers by (route, status): {statuses:?}");
        assert!(
            !statuses.keys().any(|(_, status)| *status == 500),
            "a crashed onboarding is a retryable 503, never a 500: {statuses:?}"
        );

        let db = fleet.pool("onboarding").await;
        let user = Uuid::parse_str(&user_id).expect("user id");
        for tenant in &tenants {
            let rows: Vec<(String, Option<Value>)> = sqlx::query_as(
                "select state, data from checklist_steps
                  where tenant_id = $1 and user_id = $2 and step_id = 'first_setup'",
            )
            .bind(Uuid::parse_str(tenant).expect("tenant id"))
            .bind(user)
            .fetch_all(&db)
            .await
            .expect("steps");
            assert_eq!(rows.len(), 1, "{tenant}: the completion is stored once");
            let (state, data) = &rows[0];
            assert_eq!(state, "done", "{tenant}");
            let stored = data.as_ref().map(ToString::to_string).unwrap_or_default();
            assert!(
                stored.contains(&company(tenant)),
                "{tenant}: the data that was sent: {stored}"
            );
        }
        db.close().await;
    })
    .await;
}
