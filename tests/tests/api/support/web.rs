//! The browser tests' harness: the whole stack (mailing to the test sink) with its gateway on a
//! known port so every link the services make (mail links, Checkout's return, the OAuth redirect)
//! points at the app it serves; a tiny "harness control" HTTP server the Node scripts call for what
//! only the harness knows (the latest mailed link for an address); and the runner that starts
//! `node --test tests/browser/<journey>.test.mjs` with the URLs in its environment.

use std::{collections::HashMap, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::{Query, State},
    http::StatusCode,
    routing::get,
};
use onramp_stack::StackOptions;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::{MAIL_WAIT, TestStack, mail_text};

/// A free loopback port for the gateway (the app's links must name it before it starts).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// The stack for a browser journey: the gateway at `http://127.0.0.1:<port>`, every service's
/// app links pointing there, the manual billing provider, and `adjust` applied last.
pub(crate) async fn browser_world(adjust: impl FnOnce(&mut StackOptions)) -> (TestStack, String) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let app = base.clone();
    let world = TestStack::with_mail_and(|options| {
        options.gateway_port = port;
        let identity_app = app.clone();
        options.identity(move |config: &mut onramp_identity::Config| {
            config.app_base_url = identity_app.clone();
            config.oauth_redirect_uris = vec![format!("{identity_app}/oauth/callback")];
        });
        let tenancy_app = app.clone();
        options.tenancy(move |config: &mut onramp_tenant_provisioning::Config| {
            config.invite_link_base = format!("{tenancy_app}/invites/");
            config.payment_retry_after = Duration::from_secs(1);
        });
        let billing_app = app.clone();
        options.billing(move |config: &mut onramp_billing::Config| {
            config.billing_app_url = billing_app.clone();
            config.outbox_poll_interval = Duration::from_millis(50);
            config.billing_provider = Some(onramp_billing::ProviderKind::Manual);
        });
        options.onboarding(|config: &mut onramp_onboarding::Config| {
            config.checklist_peer_timeout = Duration::from_secs(5);
        });
        adjust(options);
    })
    .await;
    (world, base)
}

/// Every `http(s)://…` link in a mail's text.
fn links(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        .filter(|word| word.starts_with("http://") || word.starts_with("https://"))
        .map(|word| word.trim_end_matches(['.', ',', ')']).to_owned())
        .collect()
}

/// `GET /mail-link?to=&contains=`: the newest mailed link to `to` containing `contains` (a piece
/// of the wanted link: `/verify-email?token=`, `/invites/`), waiting for it (bounded); 404 when
/// none came.
async fn mail_link(
    State(world): State<Arc<TestStack>>,
    Query(query): Query<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let to = query.get("to").cloned().unwrap_or_default();
    let contains = query.get("contains").cloned().unwrap_or_default();
    let start = std::time::Instant::now();
    loop {
        let mut found: Vec<String> = world
            .sink()
            .messages()
            .iter()
            .filter(|mail| mail.to.iter().any(|r| r == &to))
            .flat_map(|mail| links(&mail_text(mail)))
            .filter(|link| link.contains(&contains))
            .collect();
        let found = found.pop();
        if let Some(link) = found {
            return (StatusCode::OK, Json(json!({ "link": link })));
        }
        if start.elapsed() > MAIL_WAIT {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({ "error": "no such mail" })),
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The control server (plus a journey's `extra` routes), until `stop` fires.
async fn control(
    world: Arc<TestStack>,
    extra: Router,
    stop: CancellationToken,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("control port");
    let addr = listener.local_addr().expect("addr");
    let router = Router::new()
        .route("/mail-link", get(mail_link))
        .with_state(world)
        .merge(extra);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
    });
    (addr, task)
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// Runs `tests/browser/<script>` against `base` with the control server up; panics with the
/// script's output unless it passes. Stops the stack afterwards.
pub(crate) async fn run_journey(world: TestStack, base: &str, script: &str) {
    run_journey_with(world, base, script, Router::new()).await;
}

/// [`run_journey`] with more control routes (what Stripe does, say).
pub(crate) async fn run_journey_with(world: TestStack, base: &str, script: &str, extra: Router) {
    let world = Arc::new(world);
    let stop = CancellationToken::new();
    let (control_addr, task) = control(world.clone(), extra, stop.clone()).await;
    let root = repo_root();
    let tools = std::env::var("ONRAMP_PLAYWRIGHT_DIR").unwrap_or_else(|_| {
        format!(
            "{}/.cache/onramp-tools/browser-node",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let screenshots = std::env::var("ONRAMP_SCREENSHOT_DIR")
        .unwrap_or_else(|_| root.join("target/web-screenshots").display().to_string());
    let output = tokio::process::Command::new("node")
        .arg("--test")
        .arg("--test-reporter=spec")
        .arg(root.join("tests/browser").join(script))
        .env("ONRAMP_BASE_URL", base)
        .env("ONRAMP_CONTROL_URL", format!("http://{control_addr}"))
        .env("ONRAMP_PLAYWRIGHT_DIR", &tools)
        .env("ONRAMP_SCREENSHOT_DIR", &screenshots)
        .current_dir(&root)
        .kill_on_drop(true)
        .output()
        .await
        .expect("node runs (is Node installed? ./tests/run installs the browser tools)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("--- {script} stdout ---\n{stdout}\n--- {script} stderr ---\n{stderr}");
    stop.cancel();
    let _ = task.await;
    drop(world);
    assert!(
        output.status.success(),
        "{script} failed ({}); its output is above",
        output.status
    );
}

#[test]
fn links_come_out_of_mail_text() {
    let text =
        "Verify: http://127.0.0.1:9/verify-email?token=abc.\nOr <https://x.example/invites/k>";
    assert_eq!(
        links(text),
        [
            "http://127.0.0.1:9/verify-email?token=abc",
            "https://x.example/invites/k"
        ]
    );
}
