//! A Postgres cluster only one test uses, so that the test may stop and restart it: the stack's own
//! private cluster (`onramp_stack::postgres::locate`, the way `onramp up` starts one when no server
//! answers), under a fresh state directory that goes with it.

use std::{net::TcpStream, path::PathBuf};

use onramp_stack::postgres::{PgServer, Source, locate};

/// The port the stack's private cluster listens on (`PRIVATE_PORT` in the stack crate).
const PORT: u16 = 54329;

/// A running or stopped private cluster.
pub(crate) struct PrivatePostgres {
    state_dir: PathBuf,
    server: Option<PgServer>,
    running: Option<Source>,
}

impl PrivatePostgres {
    /// Creates (`initdb`) and starts a cluster under a fresh directory.
    pub(crate) async fn start() -> Self {
        assert!(
            TcpStream::connect(("127.0.0.1", PORT)).is_err(),
            "something already listens on 127.0.0.1:{PORT} (a private cluster left by a killed \
             test run?); stop it before running the restart fault tests"
        );
        let state_dir = std::env::temp_dir().join(format!(
            "onramp-fault-pg-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ));
        std::fs::create_dir_all(&state_dir).expect("state dir");
        let mut cluster = Self {
            state_dir,
            server: None,
            running: None,
        };
        cluster.resume().await;
        cluster
    }

    /// The cluster's server (its address stays the same across restarts).
    pub(crate) fn server(&self) -> PgServer {
        self.server.clone().expect("started")
    }

    /// Stops the cluster (`pg_ctl stop -m fast`: sessions are ended with `admin_shutdown`, as in a
    /// failover or a node drain) and waits until it is down.
    pub(crate) async fn stop(&mut self) {
        let running = self.running.take().expect("the cluster runs");
        // The stack's cluster stops when dropped, with a blocking `pg_ctl -w`.
        tokio::task::spawn_blocking(move || drop(running))
            .await
            .expect("pg_ctl stop");
    }

    /// Starts the stopped cluster again on the same data directory and port.
    pub(crate) async fn resume(&mut self) {
        assert!(self.running.is_none(), "the cluster already runs");
        let (server, source) = locate(None, true, &self.state_dir)
            .await
            .expect("the private cluster starts");
        assert!(
            matches!(source, Source::Private(_)),
            "a private cluster, not {source:?}"
        );
        self.server = Some(server);
        self.running = Some(source);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        // Stopped first (the `Source` drop), then its files go.
        drop(self.running.take());
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}
