//! Finding a Postgres server for the stack: `DATABASE_URL`, else the local server on
//! 127.0.0.1:5432, else a private cluster started under `target/` from the machine's binaries.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::{Context as _, bail};
use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};
use tokio::process::Command;
use url::Url;

/// A Postgres server, as a URL whose path (the database) is replaced per service.
#[derive(Debug, Clone)]
pub struct PgServer {
    url: Url,
}

impl PgServer {
    /// A server from a `postgres://` URL (its database part is ignored).
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        let url = Url::parse(url).context("DATABASE_URL is not a URL")?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            bail!("DATABASE_URL must start with postgres://");
        }
        Ok(Self { url })
    }

    /// The URL of database `name` on this server.
    pub fn database_url(&self, name: &str) -> String {
        let mut url = self.url.clone();
        url.set_path(&format!("/{name}"));
        url.to_string()
    }

    /// Connection options for the server's maintenance database.
    pub fn options(&self) -> anyhow::Result<PgConnectOptions> {
        Ok(self.database_url("postgres").parse()?)
    }

    async fn answers(&self) -> bool {
        let Ok(options) = self.options() else {
            return false;
        };
        let connect = PgConnection::connect_with(&options);
        matches!(
            tokio::time::timeout(Duration::from_secs(2), connect).await,
            Ok(Ok(_))
        )
    }
}

/// The default local server: this machine's Postgres on 127.0.0.1:5432 as user `postgres`.
pub const LOCAL_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Where the server came from, for the startup message.
#[derive(Debug)]
pub enum Source {
    /// `DATABASE_URL` was set.
    Configured,
    /// The machine's server on 127.0.0.1:5432 answered.
    Local,
    /// A private cluster was started; it stops when this value is dropped.
    Private(PrivateCluster),
}

/// Picks the server as documented in the README. `database_url` is the `DATABASE_URL` value, if set.
///
/// `skip_local` goes straight to the private cluster.
pub async fn locate(
    database_url: Option<&str>,
    skip_local: bool,
    state_dir: &Path,
) -> anyhow::Result<(PgServer, Source)> {
    if let Some(url) = database_url {
        return Ok((PgServer::from_url(url)?, Source::Configured));
    }
    let local = PgServer::from_url(LOCAL_SERVER_URL)?;
    if !skip_local && local.answers().await {
        return Ok((local, Source::Local));
    }
    let cluster = PrivateCluster::start(state_dir).await?;
    let server = PgServer::from_url(&cluster.url())?;
    Ok((server, Source::Private(cluster)))
}

/// A Postgres cluster of our own under the state directory, started with `initdb` and `pg_ctl`.
#[derive(Debug)]
pub struct PrivateCluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
}

const PRIVATE_PORT: u16 = 54329;

impl PrivateCluster {
    async fn start(state_dir: &Path) -> anyhow::Result<Self> {
        let bin_dir = find_postgres_binaries().context(
            "no Postgres answered on 127.0.0.1:5432, DATABASE_URL is unset, and no initdb/pg_ctl was found \
             (install PostgreSQL, or set DATABASE_URL)",
        )?;
        let data_dir = std::path::absolute(state_dir.join("postgres"))?;
        let cluster = Self {
            bin_dir,
            data_dir,
            port: PRIVATE_PORT,
        };
        if !cluster.data_dir.join("PG_VERSION").exists() {
            std::fs::create_dir_all(&cluster.data_dir)?;
            cluster
                .run_as_owner(
                    "initdb",
                    &["-D", &cluster.data_str(), "-U", "postgres", "--auth=trust"],
                )
                .await?;
        }
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            cluster.port,
            cluster.data_str()
        );
        let log = cluster.data_dir.join("server.log");
        let log = log.to_string_lossy();
        cluster
            .run_as_owner(
                "pg_ctl",
                &[
                    "-D",
                    &cluster.data_str(),
                    "-o",
                    &options,
                    "-l",
                    &log,
                    "-w",
                    "start",
                ],
            )
            .await?;
        Ok(cluster)
    }

    /// The cluster's URL.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data_str(&self) -> String {
        self.data_dir.to_string_lossy().into_owned()
    }

    /// Runs a Postgres binary; as root it runs as the `postgres` user, since initdb refuses root.
    async fn run_as_owner(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let binary = self.bin_dir.join(program);
        let mut command = if running_as_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres", &self.data_str()])
                .status()
                .await?;
            if !status.success() {
                bail!(
                    "cannot hand {} to the postgres user",
                    self.data_dir.display()
                );
            }
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&binary);
            command
        } else {
            Command::new(&binary)
        };
        let output = command
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| format!("running {}", binary.display()))?;
        if !output.status.success() {
            bail!(
                "{program} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(())
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        // Drop cannot be async; a blocking stop at exit is what we want anyway.
        let binary = self.bin_dir.join("pg_ctl");
        let data = self.data_str();
        let args = ["-D", data.as_str(), "-m", "fast", "-w", "stop"];
        let _ = if running_as_root() {
            std::process::Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&binary)
                .args(args)
                .status()
        } else {
            std::process::Command::new(&binary).args(args).status()
        };
    }
}

fn find_postgres_binaries() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut versioned: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .collect();
    // Newest major version first.
    versioned.sort();
    versioned.reverse();
    versioned
        .into_iter()
        .chain(on_path)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .map(str::to_owned)
        })
        .and_then(|line| line.split_whitespace().nth(1).map(|uid| uid == "0"))
        .unwrap_or(false)
}
