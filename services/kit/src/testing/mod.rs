//! Support for the services' own test suites (feature `testing`): throw-away databases on the
//! Postgres at `DATABASE_URL`, a bounded wait for a server to report SERVING, a running service and
//! calls made and checked as the gateway makes and decodes them, and `localstripe`.

mod calls;
mod localstripe;

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use sqlx::{PgPool, postgres::PgConnectOptions};
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::{db, service_config::ServiceConfig};

pub use calls::{RunningService, assert_error, caller, error_of, eventually};
pub use localstripe::LocalStripe;

/// The Postgres server tests use: `DATABASE_URL`, else the local one (user `postgres`, trust).
pub fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A uniquely named database a test creates, and removes with [`TestDatabase::remove`]; one that
/// is dropped instead (its test panicked first) is removed on the way out all the same.
#[derive(Debug)]
pub struct TestDatabase {
    /// The database's name: `onramp_test_<random>_<label>`.
    pub name: String,
    server: PgConnectOptions,
    removed: bool,
}

impl TestDatabase {
    /// Creates a new, empty database; `label` says whose it is (`billing`, `kit`).
    pub async fn create(label: &str) -> Self {
        let server: PgConnectOptions = server_url().parse().expect("DATABASE_URL");
        let random = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("onramp_test_{}_{label}", &random[..12]);
        assert!(
            db::ensure_database(&server, &name)
                .await
                .expect("create the test database"),
            "{name} already existed"
        );
        Self {
            name,
            server,
            removed: false,
        }
    }

    /// The database's URL, as a service's `DATABASE_URL` (the server's, with this database).
    pub fn url(&self) -> String {
        let url = server_url();
        let (url, query) = url
            .split_once('?')
            .map_or((url.as_str(), None), |(u, q)| (u, Some(q)));
        let authority_from = url.find("://").map_or(0, |at| at + 3);
        let path_from = url[authority_from..]
            .find('/')
            .map_or(url.len(), |at| authority_from + at);
        let mut database = format!("{}/{}", &url[..path_from], self.name);
        if let Some(query) = query {
            database.push('?');
            database.push_str(query);
        }
        database
    }

    /// Settings for a service under test on this database: a free local port, a short drain.
    pub fn service_config(&self) -> ServiceConfig {
        let mut base = ServiceConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)), self.url());
        base.server.drain_period = Duration::from_millis(20);
        base
    }

    /// A pool on the database (for a test to read rows and inject failures).
    pub async fn connect(&self) -> PgPool {
        PgPool::connect_with(self.options())
            .await
            .expect("connect to the test database")
    }

    /// Connection options for the database.
    pub fn options(&self) -> PgConnectOptions {
        self.server.clone().database(&self.name)
    }

    /// Drops the database (its sessions are disconnected first).
    pub async fn remove(mut self) {
        db::drop_database(&self.server, &self.name)
            .await
            .expect("drop the test database");
        self.removed = true;
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        // Drop cannot await, and the test's runtime may be unwinding: drop the database from a
        // thread and runtime of its own. Failing here would only hide the test's own panic.
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(db::drop_database(&server, &name))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            tracing::warn!(database = %self.name, "could not drop the test database");
        }
    }
}

/// The count `sql` selects (`select count(*) …`) on `pool`.
pub async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.expect(sql)
}

/// A lazily connecting channel to the gRPC server at `addr`, once it reports SERVING.
pub async fn serving_channel(addr: SocketAddr, what: &str) -> Channel {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("a valid URI")
        .connect_lazy();
    wait_serving(channel.clone(), what).await;
    channel
}

/// Waits until the gRPC health service behind `channel` reports SERVING; panics after 30 s.
pub async fn wait_serving(channel: Channel, what: &str) {
    let mut health = HealthClient::new(channel);
    let start = Instant::now();
    loop {
        let answer = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map(|r| r.into_inner().status());
        if matches!(answer, Ok(ServingStatus::Serving)) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{what} never became SERVING"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
