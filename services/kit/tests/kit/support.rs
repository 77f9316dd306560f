//! A throw-away database per test, on the Postgres at `DATABASE_URL` (default: local, trust).

use onramp_kit::{db, mail::outbox};
use sqlx::{PgPool, postgres::PgConnectOptions};

pub(crate) struct TestDb {
    pub(crate) server: PgConnectOptions,
    pub(crate) name: String,
    pub(crate) pool: PgPool,
}

impl TestDb {
    /// A new database holding the mail outbox table.
    pub(crate) async fn create() -> Self {
        let db = Self::empty().await;
        sqlx::raw_sql(outbox::TABLE_SQL)
            .execute(&db.pool)
            .await
            .expect("outbox table");
        db
    }

    /// A new database without any table, as a service finds it before its migrations.
    pub(crate) async fn empty() -> Self {
        let url = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let server: PgConnectOptions = url.parse().expect("DATABASE_URL");
        let name = format!(
            "onramp_test_kit_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        assert!(
            db::ensure_database(&server, &name)
                .await
                .expect("create database")
        );
        let pool = PgPool::connect_with(server.clone().database(&name))
            .await
            .expect("connect");
        Self { server, name, pool }
    }

    pub(crate) async fn drop(self) {
        self.pool.close().await;
        db::drop_database(&self.server, &self.name)
            .await
            .expect("drop");
    }
}
