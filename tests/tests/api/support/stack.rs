//! The test stack: the whole stack in-process on its own uniquely named databases, an HTTP client
//! pointed at its gateway and, when a test wants mail, one real SMTP sink every service sends to.
//! Its databases are dropped when it is dropped — also when a test panics — and it never drops
//! anything it did not create.

use std::time::{Duration, Instant};

use onramp_kit::{
    config::SecretString,
    mail::{sink::SmtpSink, smtp::SmtpSettings},
};
use onramp_stack::{
    RunningStack, StackOptions,
    postgres::{LOCAL_SERVER_URL, PgServer},
};

use super::telemetry::spans;

/// The Postgres server tests use: `DATABASE_URL` if set, else the local one.
pub(crate) fn postgres() -> PgServer {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| LOCAL_SERVER_URL.to_owned());
    PgServer::from_url(&url).expect("DATABASE_URL")
}

/// A database prefix no other test (or person) uses.
pub(crate) fn unique_prefix() -> String {
    format!(
        "onramp_test_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// A running stack plus an HTTP client pointed at its gateway.
pub(crate) struct TestStack {
    // Fields drop in order: the stack (which tells every part to stop) before the guard.
    pub(crate) stack: RunningStack,
    pub(crate) http: reqwest::Client,
    sink: Option<SmtpSink>,
    _databases: DatabasesGuard,
}

impl TestStack {
    /// Starts the stack with default options (no mail is sent) and waits until it is ready.
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts the stack with options adjusted by `adjust`, and waits until it is ready.
    pub(crate) async fn spawn_with(adjust: impl FnOnce(&mut StackOptions)) -> Self {
        Self::start(None, adjust).await
    }

    /// The default stack, every service mailing to a fresh sink.
    pub(crate) async fn with_mail() -> Self {
        Self::with_mail_and(|_| {}).await
    }

    /// A stack mailing to a fresh sink, with `adjust` applied after the mail settings (its hooks
    /// run after them, so they add to them and may change them, never drop them).
    pub(crate) async fn with_mail_and(adjust: impl FnOnce(&mut StackOptions)) -> Self {
        let sink = SmtpSink::start().expect("smtp sink");
        Self::start(Some(sink), adjust).await
    }

    async fn start(sink: Option<SmtpSink>, adjust: impl FnOnce(&mut StackOptions)) -> Self {
        spans();
        let mut options = StackOptions::local(postgres(), unique_prefix());
        if let Some(sink) = &sink {
            mail_to(&mut options, &sink.url());
        }
        adjust(&mut options);
        let stack = RunningStack::start(options).await.expect("stack starts");
        let mut app = Self::adopt(stack);
        app.sink = sink;
        app.wait_until_ready().await;
        app
    }

    /// Wraps a stack started elsewhere (e.g. by `onramp up`'s own code path); its databases are
    /// dropped with it.
    pub(crate) fn adopt(stack: RunningStack) -> Self {
        let databases = DatabasesGuard::new(stack.server(), stack.created_databases());
        Self {
            stack,
            http: reqwest::Client::new(),
            sink: None,
            _databases: databases,
        }
    }

    /// The sink a stack started elsewhere was configured to mail to (`onramp up` with `SMTP_URL`).
    pub(crate) fn mailing_to(mut self, sink: SmtpSink) -> Self {
        self.sink = Some(sink);
        self
    }

    /// The SMTP sink every service mails to (a stack started [`TestStack::with_mail`]).
    pub(crate) fn sink(&self) -> &SmtpSink {
        self.sink
            .as_ref()
            .expect("a stack started with_mail has a sink")
    }

    /// `http://gateway/<path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stack.gateway_url())
    }

    /// `GET <path>` on the gateway, with no credentials.
    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("the gateway answers")
    }

    /// The JSON body of `GET <path>` on the gateway, with no credentials.
    pub(crate) async fn get_json(&self, path: &str) -> serde_json::Value {
        self.get(path).await.json().await.expect("json")
    }

    /// Polls `/readyz` until 200 (bounded).
    pub(crate) async fn wait_until_ready(&self) {
        // A plain loop, not `eventually`: its async closure's future is not `Send` for every
        // lifetime, and a test may start a stack inside `tokio::spawn` (cleanup.rs does).
        let start = Instant::now();
        let ready = || self.http.get(self.url("/readyz")).send();
        while !ready().await.is_ok_and(|r| r.status() == 200) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the stack never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops everything, asserting that every part drained and stopped cleanly; the databases go
    /// with the guard, as on any other end. Only tests about shutdown need this: dropping the stack
    /// cleans up too.
    pub(crate) async fn stop(self) {
        let Self {
            stack, _databases, ..
        } = self;
        stack.stop().await.expect("clean stop");
    }
}

/// Every service that sends mail sends it to `smtp_url`, relaying every 50 ms.
fn mail_to(options: &mut StackOptions, smtp_url: &str) {
    let settings = SmtpSettings::new(smtp_url.to_owned(), "Onramp <no-reply@onramp.test>");
    let url = SecretString::from(smtp_url.to_owned());
    options.identity(move |config| {
        config.smtp = Some(settings.clone());
        config.email_outbox_poll_interval = Duration::from_millis(50);
    });
    let tenancy_url = url.clone();
    options.tenancy(move |config| {
        config.smtp_url = Some(tenancy_url.clone());
        config.outbox_poll_interval = Duration::from_millis(50);
    });
    options.onboarding(move |config| {
        config.smtp_url = Some(url.clone());
        config.mail_relay_interval = Duration::from_millis(50);
    });
}

/// Drops a stack's databases when dropped: the one way a test's databases go, so a failed
/// assertion (which panics past any `stop`) leaves nothing behind on the shared server.
pub(crate) struct DatabasesGuard {
    server: PgServer,
    names: Vec<String>,
}

impl DatabasesGuard {
    /// Guards `names` on `server`.
    pub(crate) fn new(server: &PgServer, names: &[String]) -> Self {
        Self {
            server: server.clone(),
            names: names.to_vec(),
        }
    }

    /// Guards one more database, created after the guard was.
    pub(crate) fn guard(&mut self, name: &str) {
        self.names.push(name.to_owned());
    }
}

impl Drop for DatabasesGuard {
    fn drop(&mut self) {
        if self.names.is_empty() {
            return;
        }
        let names = std::mem::take(&mut self.names);
        let server = self.server.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with its own
        // runtime does the work while this one waits. `with (force)` ends the sessions the
        // stopped (or abandoned) services still hold.
        let dropped = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let options = server.options()?;
                for name in &names {
                    onramp_kit::db::drop_database(&options, name).await?;
                }
                anyhow::Ok(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("could not drop a test's databases: {error:#}"),
            Err(_) => eprintln!("dropping a test's databases panicked"),
        }
    }
}
