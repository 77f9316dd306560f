//! Postgres: one pool per service, and its embedded migrations applied at start under an advisory
//! lock so that many replicas starting at once apply each migration exactly once.

use std::time::Duration;

use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sqlx::{
    Connection, PgConnection, PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio_util::sync::CancellationToken;

mod transient;

pub use transient::{TRANSIENT_RETRY_AFTER, caused_by_transient, is_transient, unavailable};

/// The advisory lock held while migrating (the bytes of "onramp"). Every replica of a service takes
/// it on its own database before migrating; the rest wait and then find nothing to do.
pub const MIGRATION_LOCK_KEY: i64 = 0x0000_6f6e_7261_6d70;

/// Database settings shared by every service.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`: the service's own database, e.g. `postgres://user:pw@host:5432/onramp_identity`.
    pub database_url: SecretString,
    /// `DATABASE_MAX_CONNECTIONS`: pool size per replica; default 10.
    #[serde(default = "default_max_connections")]
    pub database_max_connections: u32,
}

fn default_max_connections() -> u32 {
    10
}

impl DatabaseSettings {
    /// Settings for `url` with the default pool size.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            database_url: SecretString::from(url.into()),
            database_max_connections: default_max_connections(),
        }
    }

    /// Connection options parsed from the URL.
    pub fn connect_options(&self) -> anyhow::Result<PgConnectOptions> {
        self.database_url
            .expose_secret()
            .parse()
            .context("DATABASE_URL is not a valid Postgres URL")
    }
}

/// A pool that connects on first use, so a service can start (and report NOT_SERVING) before its
/// database is reachable.
///
/// Connections are not pinged as they leave the pool (`test_before_acquire(false)`): the ping was a
/// round trip before every transaction and statement, a large share of the database's work per
/// request. A connection that died while idle fails its first statement instead; sqlx then drops it
/// (the pool reconnects on the next acquire) and the error is transient ([`is_transient`]), so the
/// request answers 503 with `Retry-After` and the client's retry gets a live connection.
pub fn connect_lazy(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(settings.database_max_connections.max(2))
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .connect_lazy_with(settings.connect_options()?))
}

/// Applies `migrator` while holding [`MIGRATION_LOCK_KEY`].
pub async fn migrate(pool: &PgPool, migrator: &Migrator) -> anyhow::Result<()> {
    let mut conn = pool
        .acquire()
        .await
        .context("connecting to run migrations")?;
    sqlx::query("select pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut *conn)
        .await
        .context("taking the migration lock")?;
    // Migrations run on another pooled connection (hence a pool of at least 2): running them on
    // `conn` trips a lifetime bound in sqlx's `Acquire` that `tokio::spawn` callers cannot meet.
    let outcome = migrator.run(pool).await.context("applying migrations");
    // Unlock even when migrating failed; closing the connection would also release it.
    let unlocked = sqlx::query("select pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut *conn)
        .await;
    outcome?;
    unlocked.context("releasing the migration lock")?;
    Ok(())
}

/// Retries [`migrate`] with backoff until it succeeds or `shutdown` fires (returns false then).
pub async fn migrate_when_reachable(
    pool: &PgPool,
    migrator: &Migrator,
    shutdown: &CancellationToken,
) -> bool {
    let mut delay = Duration::from_millis(100);
    loop {
        match migrate(pool, migrator).await {
            Ok(()) => return true,
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "database not ready; retrying")
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return false,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// The newest applied migration version, 0 for an empty schema.
pub async fn schema_version(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select coalesce(max(version), 0) from _sqlx_migrations where success")
        .fetch_one(pool)
        .await
}

/// Creates database `name` on the server at `server` unless it exists. Returns whether it created it.
pub async fn ensure_database(server: &PgConnectOptions, name: &str) -> anyhow::Result<bool> {
    let mut conn = PgConnection::connect_with(&server.clone().database("postgres"))
        .await
        .context("connecting to the Postgres server")?;
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if exists {
        return Ok(false);
    }
    // Identifiers cannot be bound; the name is quoted, and callers only pass names they generated.
    let created = sqlx::query(&format!(
        "create database \"{}\"",
        name.replace('"', "\"\"")
    ))
    .execute(&mut conn)
    .await;
    match created {
        Ok(_) => Ok(true),
        // Another process created it between our check and our create.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P04") => Ok(false),
        Err(error) => Err(error).context("creating the database"),
    }
}

/// Drops database `name` (which the caller created), disconnecting its sessions first.
pub async fn drop_database(server: &PgConnectOptions, name: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(&server.clone().database("postgres")).await?;
    sqlx::query(&format!(
        "drop database if exists \"{}\" with (force)",
        name.replace('"', "\"\"")
    ))
    .execute(&mut conn)
    .await?;
    Ok(())
}
