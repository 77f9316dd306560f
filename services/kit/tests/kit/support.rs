//! A throw-away database per test, on the Postgres at `DATABASE_URL` (default: local, trust).

use onramp_kit::{mail::outbox, testing::TestDatabase};
use sqlx::PgPool;

pub(crate) struct TestDb {
    pub(crate) database: TestDatabase,
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
        let database = TestDatabase::create("kit").await;
        let pool = database.connect().await;
        Self { database, pool }
    }

    pub(crate) async fn drop(self) {
        self.pool.close().await;
        self.database.remove().await;
    }
}
