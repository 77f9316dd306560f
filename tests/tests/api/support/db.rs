//! Reading a service's own tables from a test: what the service committed, beneath its API.

use sqlx::{Connection as _, PgConnection, PgPool};

use super::TestStack;

impl TestStack {
    /// A pool on `service`'s database.
    pub(crate) async fn pool(&self, service: &str) -> PgPool {
        PgPool::connect_with(self.stack.database(service).expect("database options"))
            .await
            .expect("connect")
    }

    /// One connection to `service`'s database.
    pub(crate) async fn connect(&self, service: &str) -> PgConnection {
        PgConnection::connect_with(&self.stack.database(service).expect("database options"))
            .await
            .expect("connect")
    }
}
