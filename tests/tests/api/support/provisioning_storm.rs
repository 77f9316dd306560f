//! Concurrent idempotent provisioning through the gateway for the `kill -9` tests: each logical
//! request (one `Idempotency-Key`) sent by two clients at once and retried (same key) on 5xx or a
//! transport error, as a careful client would; afterwards every key has exactly one whole workspace
//! — its owner membership and the whole starter template, never none, two or half of one — and no
//! client was answered `500`.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::json;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::support::{
    fleet::{Fleet, bounded, template_items},
    tally::{Tally, until_answered},
};

const USERS: usize = 3;
const KEYS_PER_USER: usize = 6;
/// Concurrent senders of each logical request (same key).
const SENDERS: usize = 2;

#[derive(Clone)]
struct Request {
    user_id: String,
    token: String,
    key: String,
}

/// What the clients saw: every answer, and each key's tenant ids.
#[derive(Default)]
struct Seen {
    tally: Tally,
    tenants: Mutex<HashMap<String, Vec<String>>>,
    provisioned: AtomicUsize,
}

/// Sends one logical request until it is answered 201, retrying 5xx and transport errors.
async fn provision_until_done(
    http: reqwest::Client,
    base: String,
    request: Request,
    seen: Arc<Seen>,
) {
    let url = format!("{base}/v1/tenants");
    let body = json!({ "name": format!("Fault {}", &request.key[..8]) });
    let answer = until_answered("provision", 201, &seen.tally, || {
        http.post(&url)
            .bearer_auth(&request.token)
            .header("idempotency-key", &request.key)
            .json(&body)
    })
    .await;
    let tenant = answer["tenant"]["id"]
        .as_str()
        .expect("tenant id")
        .to_owned();
    seen.tenants
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(request.key.clone())
        .or_default()
        .push(tenant);
    seen.provisioned.fetch_add(1, Ordering::Relaxed);
}

/// Waits (bounded) until at least `count` logical requests were answered 201.
async fn wait_provisioned(seen: &Seen, count: usize) {
    let start = Instant::now();
    while seen.provisioned.load(Ordering::Relaxed) < count {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "provisioning stopped succeeding"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Tenancy's tables agree with what the clients were told, key by key.
async fn assert_one_whole_workspace_per_key(db: &PgPool, requests: &[Request], seen: &Seen) {
    let told = seen
        .tenants
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    for request in requests {
        let user = Uuid::parse_str(&request.user_id).expect("user id");
        let stored: Vec<Uuid> = sqlx::query_scalar(
            "select tenant_id from provisioning_requests where user_id = $1 and idempotency_key = $2",
        )
        .bind(user)
        .bind(&request.key)
        .fetch_all(db)
        .await
        .expect("requests");
        assert_eq!(stored.len(), 1, "key {}: one stored result", request.key);
        let tenant = stored[0];
        let answers = &told[&request.key];
        assert_eq!(answers.len(), SENDERS, "every sender got its answer");
        assert!(
            answers.iter().all(|id| *id == tenant.to_string()),
            "key {}: every answer names the stored workspace: {answers:?} vs {tenant}",
            request.key
        );
        let members: Vec<(Uuid, String)> =
            sqlx::query_as("select user_id, role from memberships where tenant_id = $1")
                .bind(tenant)
                .fetch_all(db)
                .await
                .expect("members");
        assert_eq!(
            members,
            vec![(user, "owner".to_owned())],
            "the owner, alone"
        );
        let items: i64 =
            sqlx::query_scalar("select count(*) from starter_items where tenant_id = $1")
                .bind(tenant)
                .fetch_one(db)
                .await
                .expect("starter items");
        assert_eq!(items, template_items(), "the whole template");
    }
    let workspaces: i64 = sqlx::query_scalar("select count(*) from tenants")
        .fetch_one(db)
        .await
        .expect("tenants");
    assert_eq!(
        workspaces,
        i64::try_from(requests.len()).expect("count"),
        "no workspace without a key (an orphan of a crashed attempt)"
    );
}

/// The clients of one storm, running until every key is provisioned.
pub(crate) struct Storm {
    requests: Vec<Request>,
    seen: Arc<Seen>,
    clients: Vec<JoinHandle<()>>,
}

impl Storm {
    /// Signs the users up and starts the clients: each works through its keys in order, so
    /// requests are in flight whenever a process dies.
    pub(crate) async fn start(fleet: &Fleet) -> Self {
        let mut requests = Vec::new();
        for _ in 0..USERS {
            let (user_id, token) = fleet.user().await;
            for _ in 0..KEYS_PER_USER {
                requests.push(Request {
                    user_id: user_id.clone(),
                    token: token.clone(),
                    key: Uuid::new_v4().to_string(),
                });
            }
        }
        let seen = Arc::new(Seen::default());
        let mut clients = Vec::new();
        for sender in 0..SENDERS {
            for user in 0..USERS {
                let mine: Vec<Request> =
                    requests[user * KEYS_PER_USER..(user + 1) * KEYS_PER_USER].to_vec();
                let (http, base, seen) = (fleet.http.clone(), fleet.base.clone(), seen.clone());
                clients.push(tokio::spawn(async move {
                    // The second sender starts a moment later, so duplicates overlap at random.
                    tokio::time::sleep(Duration::from_millis(7 * sender as u64)).await;
                    for request in mine {
                        provision_until_done(http.clone(), base.clone(), request, seen.clone())
                            .await;
                    }
                }));
            }
        }
        Self {
            requests,
            seen,
            clients,
        }
    }

    /// Waits (bounded) until a third of the keys were answered 201: the moment to strike.
    pub(crate) async fn wait_a_third(&self) {
        wait_provisioned(&self.seen, self.requests.len() / 3).await;
    }

    /// Waits for every client, then checks tenancy's tables key by key against the answers.
    pub(crate) async fn finish(self, fleet: &Fleet) {
        for client in self.clients {
            client.await.expect("client");
        }
        self.seen.tally.assert_no_500();
        let db = fleet.pool("tenant-provisioning").await;
        assert_one_whole_workspace_per_key(&db, &self.requests, &self.seen).await;
        db.close().await;
    }
}

/// A [`Storm`] through a fresh fleet's gateway, with `crash` (a `kill -9` and a restart) a third of
/// the way through; then the storm's own checks.
pub(crate) async fn storm_with_crash(crash: impl AsyncFnOnce(&mut Fleet)) {
    bounded(Duration::from_secs(150), async {
        let mut fleet = Fleet::services(&[]).await;
        fleet.start_gateway("5s", &[]).await;
        let storm = Storm::start(&fleet).await;
        storm.wait_a_third().await;
        crash(&mut fleet).await;
        storm.finish(&fleet).await;
    })
    .await;
}
