//! The plan catalog as the RPCs use it: read on a pooled connection, replaced in one transaction.

use sqlx::PgPool;

use crate::{
    domain::plan::Plan,
    error::BillingError,
    store::{self, catalog::Written},
};

/// Every plan and the catalog's version.
pub(crate) async fn load(pool: &PgPool) -> Result<(Vec<Plan>, i64), BillingError> {
    let mut conn = pool.acquire().await?;
    store::catalog::load(&mut conn).await
}

/// Replaces the catalog if it is still at `expected_version` (optimistic concurrency).
pub(crate) async fn put(
    pool: &PgPool,
    actor: &str,
    expected_version: i64,
    plans: Vec<Plan>,
) -> Result<Written, BillingError> {
    let mut tx = pool.begin().await?;
    let written = store::catalog::put(&mut tx, actor, expected_version, plans).await?;
    tx.commit().await?;
    Ok(written)
}
