//! All SQL of the service (`query`/`query_as` with `FromRow`), one module per aggregate.

pub(crate) mod billing_events;
pub(crate) mod invites;
pub(crate) mod members;
pub(crate) mod provisioning;
pub(crate) mod sweep;
pub(crate) mod tenants;

/// Whether `error` is a unique violation of `constraint`.
pub(crate) fn is_unique_violation(error: &sqlx::Error, constraint: &str) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.code().as_deref() == Some("23505") && db.constraint() == Some(constraint)
        }
        _ => false,
    }
}
