//! The deployment rehearsal: every service and the gateway as separate OS processes, configured only
//! through the environment variables the Kubernetes manifests set, then a rolling stop of one
//! replica while requests flow.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use onramp_kit::db;
use tokio::process::Command;

use crate::support::{
    postgres,
    processes::{Process, free_addr, service_env, spawn, wait_gateway_ready, wait_serving},
    unique_prefix,
};

/// Waits (bounded) until `ok` has counted at least `count` successful requests.
async fn wait_for_requests(ok: &AtomicU32, count: u32) {
    let start = Instant::now();
    while ok.load(Ordering::Relaxed) < count {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "requests stopped succeeding"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn signup_body(n: u32) -> serde_json::Value {
    serde_json::json!({
        "email": format!("rehearsal-{n}-{}@example.com", uuid::Uuid::new_v4().simple()),
        "password": "correct horse battery staple",
        "display_name": "Rehearsal",
    })
}

#[tokio::test]
async fn separate_processes_start_from_env_and_a_draining_replica_fails_no_request() {
    let server = postgres();
    let prefix = unique_prefix();
    let server_options = server.options().expect("options");
    let services = ["identity", "tenant-provisioning", "billing", "onboarding"];
    let mut databases = Vec::new();
    for service in services {
        let name = format!("{prefix}_{}", service.replace('-', "_"));
        assert!(
            db::ensure_database(&server_options, &name)
                .await
                .expect("create")
        );
        databases.push(name);
    }

    // Two replicas of identity (the one we stop), one of each other service.
    let addrs: Vec<SocketAddr> = (0..5).map(|_| free_addr()).collect();
    let mut identity_a = spawn(
        "identity",
        &service_env(addrs[0], server.database_url(&databases[0])),
    );
    let _identity_b = spawn(
        "identity",
        &service_env(addrs[1], server.database_url(&databases[0])),
    );
    let _others: Vec<Process> = services[1..]
        .iter()
        .zip(&databases[1..])
        .zip(&addrs[2..])
        .map(|((service, database), addr)| {
            spawn(service, &service_env(*addr, server.database_url(database)))
        })
        .collect();
    for addr in &addrs {
        wait_serving(*addr).await;
    }

    let gateway_addr = free_addr();
    let _gateway = spawn(
        "gateway",
        &[
            ("HTTP_LISTEN_ADDR", gateway_addr.to_string()),
            (
                "IDENTITY_SERVICE_ADDR",
                format!("http://{},http://{}", addrs[0], addrs[1]),
            ),
            (
                "TENANT_PROVISIONING_SERVICE_ADDR",
                format!("http://{}", addrs[2]),
            ),
            // Resolved through DNS as a Kubernetes headless Service would be.
            (
                "BILLING_SERVICE_ADDR",
                format!("dns:///localhost:{}", addrs[3].port()),
            ),
            ("ONBOARDING_SERVICE_ADDR", format!("http://{}", addrs[4])),
            ("REQUEST_BUDGET", "10s".into()),
            ("READINESS_TIMEOUT", "1s".into()),
            ("BODY_LIMIT_BYTES", "1048576".into()),
            ("LOG_FORMAT", "json".into()),
            ("RUST_LOG", "warn".into()),
        ],
    );
    let http = reqwest::Client::new();
    let base = format!("http://{gateway_addr}");
    wait_gateway_ready(&http, &base).await;

    // A signup goes through the gateway to identity, as a browser's would.
    let first = http
        .post(format!("{base}/v1/auth/signup"))
        .json(&signup_body(0))
        .send()
        .await
        .expect("signup");
    assert_eq!(first.status(), 202, "{:?}", first.text().await);

    // Requests flow from four clients (reads, and signups, which are not idempotent) while one
    // identity replica gets SIGTERM and drains.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let clients: Vec<_> = (0..4)
        .map(|client: u32| {
            let (http, base) = (http.clone(), base.clone());
            let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let request = if client.is_multiple_of(2) {
                        http.get(format!("{base}/v1/status"))
                    } else {
                        http.post(format!("{base}/v1/auth/signup"))
                            .json(&signup_body(client * 100_000 + n))
                    };
                    match request.send().await {
                        Ok(response) if response.status().is_success() => {
                            ok.fetch_add(1, Ordering::Relaxed)
                        }
                        other => {
                            let detail = match other {
                                Ok(response) => response.text().await.unwrap_or_default(),
                                Err(error) => error.to_string(),
                            };
                            eprintln!("failed request: {detail}");
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            })
        })
        .collect();
    // Traffic is flowing before the stop, and keeps flowing after it.
    wait_for_requests(&ok, 30).await;
    let pid = identity_a.child.id().expect("pid").to_string();
    let term = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill");
    assert!(term.success());
    let exit = tokio::time::timeout(Duration::from_secs(15), identity_a.child.wait())
        .await
        .expect("the replica stopped within its grace period")
        .expect("exit status");
    let served_before_exit = ok.load(Ordering::Relaxed);
    wait_for_requests(&ok, served_before_exit + 30).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.expect("client");
    }

    assert!(exit.success(), "the draining replica exited with {exit}");
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert!(ok > 50, "too few requests flowed to show anything: {ok}");
    assert_eq!(
        failed,
        0,
        "{failed} of {} requests failed during the rolling stop",
        ok + failed
    );

    drop(_others);
    for database in databases {
        db::drop_database(&server_options, &database)
            .await
            .expect("drop");
    }
}
