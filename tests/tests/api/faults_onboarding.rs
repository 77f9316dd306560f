//! `kill -9` of onboarding while owners complete their workspaces' first setup step (with data,
//! each retried on 5xx or a transport error until 200) and read their checklists. After the restart
//! every acknowledged completion is stored exactly once with the data that was sent, and no answer
//! was a `500`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{
    fleet::{Fleet, PEER, bounded},
    tally::{Tally, until_answered},
};

const WORKSPACES: usize = 12;
const WORKERS: usize = 3;

fn company(tenant: &str) -> String {
    format!("Company {}", &tenant[..8])
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
            tenants.push(fleet.workspace(&token).await);
        }

        let tally = Arc::new(Tally::default());
        let completed = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..WORKERS)
            .map(|worker| {
                let mine: Vec<String> = tenants
                    .iter()
                    .skip(worker)
                    .step_by(WORKERS)
                    .cloned()
                    .collect();
                let (http, base, token, tally) = (
                    fleet.http.clone(),
                    fleet.base.clone(),
                    token.clone(),
                    tally.clone(),
                );
                let completed = completed.clone();
                tokio::spawn(async move {
                    for tenant in mine {
                        let body = json!({ "action": "complete", "data": { "first_setup": {
                            "company_name": company(&tenant), "team_size": "small",
                            "use_case": "Invoices", "time_zone": "Europe/Berlin" } } });
                        let url =
                            format!("{base}/v1/onboarding/steps/first_setup?tenant_id={tenant}");
                        until_answered("complete", 200, &tally, || {
                            http.patch(&url).bearer_auth(&token).json(&body)
                        })
                        .await;
                        completed.fetch_add(1, Ordering::Relaxed);
                        let read = format!("{base}/v1/onboarding?tenant_id={tenant}");
                        until_answered("checklist", 200, &tally, || {
                            http.get(&read).bearer_auth(&token)
                        })
                        .await;
                    }
                })
            })
            .collect();
        let start = Instant::now();
        while completed.load(Ordering::Relaxed) < WORKSPACES / 3 {
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
        tally.assert_no_500();

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
