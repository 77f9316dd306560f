//! The real binaries as OS processes, configured only through the environment (as the Kubernetes
//! manifests configure them): the deployment rehearsal and the fault suite share this.

use std::{
    net::{SocketAddr, TcpListener},
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// The binaries `./tests/run` builds next to the test executables, or those in
/// `ONRAMP_TEST_BIN_DIR` (a copy taken right after building, where several checkouts share one
/// target directory and each build overwrites the others' binaries).
pub(crate) fn binary(name: &str) -> PathBuf {
    let dir = match std::env::var_os("ONRAMP_TEST_BIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let exe = std::env::current_exe().expect("test executable");
            // target/<profile>/deps/api-<hash> -> target/<profile>/<name>
            exe.parent()
                .and_then(|deps| deps.parent())
                .expect("target dir")
                .to_path_buf()
        }
    };
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` (./tests/run does)",
        path.display()
    );
    path
}

pub(crate) fn free_addr() -> SocketAddr {
    // Bind-and-release: the port may be reused by the next bind, which is what we want.
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
}

/// A child process killed if the test ends early.
pub(crate) struct Process {
    pub(crate) child: Child,
}

impl Process {
    /// `kill -9`: no drain, no flush, no goodbye (what the OOM killer or a lost node does).
    pub(crate) async fn kill9(&mut self) {
        self.child.start_kill().expect("SIGKILL");
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("a SIGKILLed process is reaped at once")
            .expect("exit status");
    }

    /// Whether the process is still the one that was started (it neither exited nor was killed).
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

pub(crate) fn spawn(name: &str, env: &[(&str, String)]) -> Process {
    let mut command = Command::new(binary(name));
    command
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    if std::env::var_os("TEST_LOG").is_none() {
        command.stdout(Stdio::null()).stderr(Stdio::null());
    }
    Process {
        child: command.kill_on_drop(true).spawn().expect("spawn"),
    }
}

pub(crate) fn service_env(addr: SocketAddr, database_url: String) -> Vec<(&'static str, String)> {
    // The same variables deploy/kubernetes/base sets (onramp-common + onramp-service + the secret).
    vec![
        ("GRPC_LISTEN_ADDR", addr.to_string()),
        ("DATABASE_URL", database_url),
        ("DATABASE_MAX_CONNECTIONS", "10".into()),
        ("MAX_RPC_TIMEOUT", "30s".into()),
        ("DRAIN_PERIOD", "1s".into()),
        ("LOG_FORMAT", "json".into()),
        ("RUST_LOG", "warn".into()),
    ]
}

pub(crate) async fn wait_serving(addr: SocketAddr) {
    let start = Instant::now();
    loop {
        let endpoint =
            tonic::transport::Endpoint::from_shared(format!("http://{addr}")).expect("uri");
        if let Ok(channel) = endpoint.connect().await {
            let status = HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await;
            if status.is_ok_and(|s| s.into_inner().status() == ServingStatus::Serving) {
                return;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{addr} never reported SERVING"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls the gateway's `/readyz` until 200 (bounded).
pub(crate) async fn wait_gateway_ready(http: &reqwest::Client, base: &str) {
    let start = Instant::now();
    while !http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "gateway never ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
