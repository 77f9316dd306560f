//! The third-party `localstripe` server (PyPI; `./tests/run` installs it and sets `LOCALSTRIPE_BIN`),
//! the Stripe stand-in for what it implements: customers, plans, cards, subscriptions, invoices.

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};

/// How long localstripe may take to answer after it is started.
const STARTUP: Duration = Duration::from_secs(20);

/// A running `localstripe` on a free loopback port, killed when dropped.
#[derive(Debug)]
pub struct LocalStripe {
    _child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    key: &'static str,
    http: reqwest::Client,
}

impl LocalStripe {
    /// Starts localstripe and waits until it answers calls made with `key` (it accepts any `sk_…`).
    ///
    /// # Panics
    /// When it is not installed or never answers.
    pub async fn start(key: &'static str) -> Self {
        let binary = std::env::var("LOCALSTRIPE_BIN").unwrap_or_else(|_| {
            format!(
                "{}/.cache/onramp-tools/localstripe-venv/bin/localstripe",
                std::env::var("HOME").unwrap_or_default()
            )
        });
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--from-scratch"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("localstripe is installed (./tests/run installs it)");
        let stripe = Self {
            _child: child,
            base: format!("http://127.0.0.1:{port}"),
            key,
            http: reqwest::Client::new(),
        };
        let start = Instant::now();
        while stripe
            .request(reqwest::Method::GET, "/v1/customers")
            .send()
            .await
            .is_err()
        {
            assert!(start.elapsed() < STARTUP, "localstripe never answered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stripe
    }

    /// A call to `path` (`/v1/customers`), authenticated with the key it was started for.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(self.key, Some(""))
    }

    /// One form-encoded API call that must succeed; its JSON answer.
    ///
    /// # Panics
    /// When localstripe does not answer or answers with an error.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        form: &[(&str, &str)],
    ) -> serde_json::Value {
        let response = self
            .request(method, path)
            .form(form)
            .send()
            .await
            .expect("localstripe answers");
        let status = response.status();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        assert!(status.is_success(), "localstripe {path}: {status} {body}");
        body
    }
}
